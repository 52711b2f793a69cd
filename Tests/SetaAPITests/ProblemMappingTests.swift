// The one mapping from errors to problem+json: store refusals and database constraint names, without a server.
import Foundation
import Testing
@testable import SetaAPI
import SetaDatabase

@Suite("Problem mapping")
struct ProblemMappingTests {
    static func checkViolation(_ constraint: String, table: String) -> DatabaseError {
        DatabaseError(.query(sqlState: "23514"), message: "check", constraint: constraint, table: table)
    }

    @Test("a constraint names its field by PostgreSQL's convention, for any table, including ones no list named")
    func constraintFieldIsDerived() {
        #expect(SetaApp.field(for: Self.checkViolation("plans_name_check", table: "plans")) == "name")
        #expect(SetaApp.field(for: Self.checkViolation("plan_versions_reason_check", table: "plan_versions")) == "reason")
        #expect(SetaApp.field(for: Self.checkViolation("schedule_exceptions_reason_check", table: "schedule_exceptions")) == "reason")
        #expect(SetaApp.field(for: Self.checkViolation("period_lock_events_reason_check", table: "period_lock_events")) == "reason")
        #expect(SetaApp.field(for: Self.checkViolation("assignments_person_id_fkey", table: "assignments")) == "person_id")
        // A constraint named otherwise is given as it is.
        #expect(SetaApp.field(for: Self.checkViolation("valid_span", table: "plans")) == "valid_span")
        let mapped = SetaApp.map(Self.checkViolation("regions_name_check", table: "regions"), requestId: "r", log: .silent)
        #expect(mapped.status == 422 && mapped.errors.map(\.field) == ["name"])
    }

    @Test("each kind of store refusal has one status, and keeps its detail and fields")
    func storeErrorsMapToStatuses() {
        let cases: [(StoreError, Int)] = [
            (.notFound("No existe.", field: "code", found: "x"), 404), (.forbidden("Fuera de alcance."), 403),
            (.invalid(field: "entity", "No inscrita."), 422), (.locked("Bloqueado."), 423),
            (.stale("Cambió."), 412), (.conflict("Ya existe."), 409),
        ]
        for (error, status) in cases {
            let problem = SetaApp.problem(for: error, requestId: "r", log: .silent)
            #expect(problem.status == status)
            #expect(problem.detail == error.detail)
            #expect(problem.errors == error.errors)
        }
    }
}
