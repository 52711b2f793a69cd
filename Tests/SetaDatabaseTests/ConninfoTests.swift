// Tests of Conninfo: switching database and redacting passwords, for URLs and key=value strings.
import Foundation
import SetaDatabase
import Testing

@Suite("Conninfo")
struct ConninfoTests {
    @Test("a URL keeps its server and credentials when the database changes")
    func urlDatabaseChanges() throws {
        let changed = try Conninfo.replacingDatabase(in: "postgresql://seta:secret@127.0.0.1:5433/seta?sslmode=disable", with: "other")
        let settings = try Conninfo.parse(changed)
        #expect(settings["dbname"] == "other")
        #expect(settings["host"] == "127.0.0.1")
        #expect(settings["port"] == "5433")
        #expect(settings["user"] == "seta")
        #expect(settings["password"] == "secret")
        #expect(settings["sslmode"] == "disable")
    }

    @Test("a key=value string with quotes survives a database change")
    func keyValueDatabaseChanges() throws {
        let changed = try Conninfo.replacingDatabase(in: "host=/tmp user=o\\'brien dbname=seta", with: "x y")
        let settings = try Conninfo.parse(changed)
        #expect(settings["dbname"] == "x y")
        #expect(settings["user"] == "o'brien")
        #expect(settings["host"] == "/tmp")
    }

    @Test("the redacted form hides the password")
    func redactedHidesPassword() {
        let text = Conninfo.redacted("postgresql://seta:s3cr3t@db:5432/seta")
        #expect(!text.contains("s3cr3t"))
        #expect(text.contains("password='***'"))
        #expect(Conninfo.redacted("not a = valid ' conninfo") == "(invalid conninfo)")
    }

    @Test("an invalid conninfo is an error")
    func invalidConninfo() {
        #expect(throws: DatabaseError.self) { try Conninfo.parse("postgresql://[broken") }
    }
}
