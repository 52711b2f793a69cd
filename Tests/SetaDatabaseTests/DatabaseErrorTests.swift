// Tests of DatabaseError: what it shows to clients and to logs, and the SQLSTATE helpers.
import Foundation
import SetaDatabase
import Testing

@Suite("DatabaseError")
struct DatabaseErrorTests {
    @Test("the description says nothing a client should not see")
    func descriptionIsGeneric() {
        let error = DatabaseError(
            .query(sqlState: "23505"), message: "duplicate key value violates unique constraint \"user_email_key\"",
            sqlState: "23505", serverMessage: "duplicate key value", detail: "Key (email)=(ana@dnp.gov.co) already exists.",
            constraint: "user_email_key", table: "app_user", query: "INSERT INTO app_user (email) VALUES ($1)")
        #expect(error.description == "A database command failed.")
        #expect(!"\(error)".contains("ana@dnp.gov.co"))
        #expect(!"\(error)".contains("INSERT"))
    }

    @Test("the debug description carries the details for logs")
    func debugDescriptionHasDetails() {
        let error = DatabaseError(
            .query(sqlState: "23505"), message: "duplicate key", sqlState: "23505", detail: "Key (code)=(05001) already exists.",
            constraint: "entity_pkey", table: "entity", column: "code", query: "INSERT INTO entity (code) VALUES ($1)",
            file: "SetaAPI/Entities.swift", line: 42)
        let text = String(reflecting: error)
        for part in ["23505", "Key (code)=(05001)", "entity_pkey", "table=entity", "column=code", "VALUES ($1)", "SetaAPI/Entities.swift:42"] {
            #expect(text.contains(part), "missing \(part) in \(text)")
        }
    }

    @Test("SQLSTATE helpers recognise constraint violations and serialization failures")
    func sqlStateHelpers() {
        func error(_ state: String) -> DatabaseError {
            DatabaseError(.query(sqlState: state), message: "x", sqlState: state)
        }
        #expect(error("23505").isUniqueViolation)
        #expect(error("23503").isForeignKeyViolation)
        #expect(error("23514").isCheckViolation)
        #expect(error("40001").isSerializationFailure)
        #expect(error("40P01").isSerializationFailure)
        #expect(!error("23505").isForeignKeyViolation)
        #expect(!error("42P01").isUnavailable)
    }

    @Test("lost connections, refused connections, server shutdowns, a full pool and a statement timeout count as unavailable")
    func unavailable() {
        #expect(DatabaseError(.connectionFailed, message: "x").isUnavailable)
        #expect(DatabaseError(.connectionLost, message: "x").isUnavailable)
        for state in ["57P01", "57P02", "57P03", "08006", "08001"] {
            #expect(DatabaseError(.query(sqlState: state), message: "x", sqlState: state).isUnavailable)
        }
        // Saturation is a 503 with Retry-After, never a 500 (issue 10).
        #expect(DatabaseError(.poolTimeout, message: "x").isUnavailable)
        #expect(DatabaseError(.query(sqlState: "57014"), message: "x", sqlState: "57014").isUnavailable)
        #expect(!DatabaseError(.decoding, message: "x").isUnavailable)
    }
}
