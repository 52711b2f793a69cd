// Log lines are valid JSON whatever the text, and connection strings are redacted.
import Foundation
import Synchronization
import Testing
@testable import SetaAPI

@Suite("Log")
struct LogTests {
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func add(_ s: String) { lines.withLock { $0.append(s) } }
    }

    @Test("an event is one line of valid JSON even with quotes, newlines and control characters")
    func eventsAreValidJSON() throws {
        let lines = Lines()
        let log = Log(write: { lines.add($0) })
        log.event("warn", "dice \"hola\"\nadiós\u{01}", ["status": 200, "route": "/v1/x\\y", "ok": true, "list": ["a", "b\""]])
        #expect(lines.all.count == 1)
        #expect(!lines.all[0].contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines.all[0].utf8)) as? [String: Any])
        #expect(object["msg"] as? String == "dice \"hola\"\nadiós\u{01}")
        #expect(object["status"] as? Int == 200)
        #expect(object["route"] as? String == "/v1/x\\y")
        #expect((object["ts"] as? String)?.hasSuffix("Z") == true)
    }

    @Test("passwords in URIs and conninfo strings are redacted")
    func redactsPasswords() {
        #expect(Log.redact(conninfo: "postgresql://seta:s3cret@db:5432/seta") == "postgresql://seta:***@db:5432/seta")
        #expect(!Log.redact(conninfo: "host=db user=seta password=s3cret dbname=seta").contains("s3cret"))
    }
}
