// Every role against every write route (table-driven): who gets 2xx, 401, 403 or 404, as designed.
import Foundation
import Testing
@testable import SetaAPI
import SetaDatabase

@Suite("Authorization matrix")
struct AuthorizationMatrixTests {
    enum Caller: String, CaseIterable {
        case advisorAssigned, advisorUnassigned, coordinatorOfRegion, coordinatorOtherRegion, central, viewer, noToken, badToken
    }

    /// What a caller must get: a success, an exact status, or "let in" (neither 401 nor 403, nor a 5xx:
    /// used for central-team calls whose bodies belong to other areas' tests).
    enum Expect: CustomStringConvertible {
        case success, status(Int), admitted
        func accepts(_ s: Int) -> Bool {
            switch self {
            case .success: return (200..<300).contains(s)
            case .status(let n): return s == n
            case .admitted: return s != 401 && s != 403 && s < 500
            }
        }
        var description: String {
            switch self {
            case .success: return "2xx"
            case .status(let n): return "\(n)"
            case .admitted: return "not 401/403/5xx"
            }
        }
    }

    struct Case {
        var method: String
        var path: String
        var body: String? = nil
        var contentType = "application/json"
        var expect: [Caller: Expect]
    }

    /// The reporting routes: the assigned advisor and the region's coordinator write, the others are refused.
    static func scoped(_ central: Expect = .success) -> [Caller: Expect] {
        [.advisorAssigned: .success, .advisorUnassigned: .status(403), .coordinatorOfRegion: .success,
         .coordinatorOtherRegion: .status(403), .central: central, .viewer: .status(403), .noToken: .status(401), .badToken: .status(401)]
    }

    /// Routes of the central team only.
    static func centralOnly(_ central: Expect = .success) -> [Caller: Expect] {
        var e = Dictionary(uniqueKeysWithValues: Caller.allCases.map { ($0, Expect.status(403)) })
        e[.central] = central
        e[.noToken] = .status(401)
        e[.badToken] = .status(401)
        return e
    }

    @Test("every role against every write route gets 2xx, 401, 403 or 404 as designed")
    func matrix() throws {
        let h = try APIHarness()
        let plan = "gap-2020-f1"
        try h.enroll(plan, ["05001", "05002", "05004", "76001"])
        let assigned = try h.person(role: "advisor", name: "Asignada")
        let unassigned = try h.person(role: "advisor", name: "Sin asignar")
        try h.assign(assigned.id, plan, ["05001"])
        try h.assign(unassigned.id, plan, ["76001"])
        try h.assign(unassigned.id, plan, ["05004"], from: "2021-01")
        let ownRegion = try h.region(of: "05001")
        let coordinator = try h.person(role: "coordinator", regions: [ownRegion])
        let otherCoordinator = try h.person(role: "coordinator", regions: [try h.region(of: "76001")])
        let viewer = try h.person(role: "viewer")
        let tokens: [Caller: String?] = [
            .advisorAssigned: assigned.token, .advisorUnassigned: unassigned.token, .coordinatorOfRegion: coordinator.token,
            .coordinatorOtherRegion: otherCoordinator.token, .central: h.centralToken, .viewer: viewer.token,
            .noToken: nil, .badToken: "seta_" + String(repeating: "0", count: 64),
        ]
        let (ids, otherToken) = try h.database.pool.withTransaction { conn -> ([String: Int64], Int64) in
            try conn.execute("INSERT INTO period_locks (plan_code, period, reason) VALUES (\(plan), '2020-12-01', 'Corte 2020')")
            let assignment: Int64 = try conn.query("SELECT id FROM assignments WHERE entity_code = '05004'").rows[0].decode("id")
            let throwaway: Int64 = try conn.query("INSERT INTO people (name, email, role) VALUES ('Otra', 'otra@x.org', 'viewer') RETURNING id").rows[0].decode("id")
            let token = try Auth.issue(conn, personId: throwaway, label: "otra", expiresAt: h.clock.now.addingTimeInterval(86_400)).0
            return (["assignment": assignment, "person": throwaway], token)
        }
        let report = APIHarness.reportJSON([("H1", "done")])
        let asesoria = "{\"entity\": \"05001\", \"plan\": \"\(plan)\", \"held_on\": \"2021-06-01\", \"modality\": \"telefonica\"}"
        let planBody = "{\"code\": \"matriz\", \"name\": \"Plan matriz\", \"phases\": [{\"code\": \"F1\", \"name\": \"Fase\", \"weight_in_plan\": 100, \"milestones\": [{\"code\": \"H1\", \"name\": \"Hito\", \"weight_in_phase\": 100}]}]}"
        let correction = "{\"name\": \"Plan matriz\", \"reason\": \"Corrección\", \"phases\": [{\"code\": \"F1\", \"name\": \"Fase\", \"weight_in_plan\": 100, \"milestones\": [{\"code\": \"H1\", \"name\": \"Hito uno\", \"weight_in_phase\": 100}]}]}"
        let csv = "plan,entity,period,milestone,status\n\(plan),05001,2021-04,H2,done\n"

        var cases: [Case] = [
            // Reporting (this area).
            Case(method: "PUT", path: "/v1/reports/\(plan)/05001/2021-05", body: report, expect: Self.scoped()),
            Case(method: "POST", path: "/v1/asesorias", body: asesoria, expect: Self.scoped()),
            Case(method: "POST", path: "/v1/locks", body: "{\"plan\": \"\(plan)\", \"period\": \"2021-01\", \"reason\": \"Revisión\"}", expect: Self.centralOnly()),
            Case(method: "POST", path: "/v1/locks/\(plan)/2020-12/reopen", body: "{\"reason\": \"Corrección\"}", expect: Self.centralOnly()),
            Case(method: "POST", path: "/v1/imports/reports?dry_run=true", body: csv, contentType: "text/csv", expect: Self.centralOnly()),
            // 404 as designed: an unknown plan or entity is named before the caller's scope is weighed;
            // a viewer is refused before anything.
            Case(method: "PUT", path: "/v1/reports/no-such-plan/05001/2021-05", body: report, expect: [
                .advisorAssigned: .status(404), .advisorUnassigned: .status(404), .coordinatorOfRegion: .status(404),
                .coordinatorOtherRegion: .status(404), .central: .status(404), .viewer: .status(403), .noToken: .status(401), .badToken: .status(401)]),
            Case(method: "PUT", path: "/v1/reports/\(plan)/99999/2021-05", body: report, expect: [
                .advisorAssigned: .status(404), .advisorUnassigned: .status(404), .coordinatorOfRegion: .status(404),
                .coordinatorOtherRegion: .status(404), .central: .status(404), .viewer: .status(403), .noToken: .status(401), .badToken: .status(401)]),
            Case(method: "POST", path: "/v1/locks/no-such-plan/2021-01/reopen", body: "{\"reason\": \"x\"}", expect: Self.centralOnly(.status(404))),
            // Catalog.
            Case(method: "POST", path: "/v1/plans", body: planBody, expect: Self.centralOnly()),
            Case(method: "PUT", path: "/v1/plans/matriz", body: correction, expect: Self.centralOnly()),
            Case(method: "PUT", path: "/v1/plans/no-such-plan", body: correction, expect: Self.centralOnly(.status(404))),
        ]
        // Territory and people routes, when present (written by other areas).
        let present = Set(h.app.registeredRoutes.map { "\($0.method) \($0.pattern)" })
        let others: [(String, Case)] = [
            ("POST /v1/regions", Case(method: "POST", path: "/v1/regions", body: "{\"code\": \"matriz\", \"name\": \"Región matriz\"}", expect: Self.centralOnly())),
            ("PATCH /v1/regions/{code}", Case(method: "PATCH", path: "/v1/regions/matriz", body: "{\"name\": \"Región matriz 2\"}", expect: Self.centralOnly())),
            ("PUT /v1/entities/{code}/region", Case(method: "PUT", path: "/v1/entities/08001/region", body: "{\"region\": \"matriz\", \"from\": \"2021-01\"}", expect: Self.centralOnly(.admitted))),
            ("PUT /v1/departments/{code}/region", Case(method: "PUT", path: "/v1/departments/08/region", body: "{\"region\": \"matriz\", \"from\": \"2021-01\"}", expect: Self.centralOnly(.admitted))),
            ("DELETE /v1/regions/{code}", Case(method: "DELETE", path: "/v1/regions/matriz", expect: Self.centralOnly(.admitted))),
            ("POST /v1/partners", Case(method: "POST", path: "/v1/partners", body: "{\"code\": \"MTX\", \"name\": \"Socia matriz\"}", expect: Self.centralOnly())),
            ("POST /v1/people", Case(method: "POST", path: "/v1/people", body: "{\"name\": \"Nueva\", \"email\": \"nueva@x.org\", \"role\": \"viewer\"}", expect: Self.centralOnly())),
            ("PATCH /v1/people/{id}", Case(method: "PATCH", path: "/v1/people/\(ids["person"]!)", body: "{\"name\": \"Otra persona\"}", expect: Self.centralOnly())),
            ("PATCH /v1/people/{id}", Case(method: "PATCH", path: "/v1/people/99999999", body: "{\"name\": \"Nadie\"}", expect: Self.centralOnly(.status(404)))),
            ("POST /v1/people/{id}/tokens", Case(method: "POST", path: "/v1/people/\(ids["person"]!)/tokens", body: "{\"label\": \"matriz\"}", expect: Self.centralOnly())),
            ("DELETE /v1/tokens/{id}", Case(method: "DELETE", path: "/v1/tokens/\(otherToken)", expect: Self.centralOnly())),
            ("POST /v1/assignments", Case(method: "POST", path: "/v1/assignments", body: "{\"plan\": \"\(plan)\", \"entity\": \"05002\", \"advisor\": \(assigned.id), \"from\": \"2021-01\"}", expect: Self.centralOnly(.admitted))),
            ("POST /v1/assignments/{id}/end", Case(method: "POST", path: "/v1/assignments/\(ids["assignment"]!)/end", body: "{\"to\": \"2021-12\"}", expect: Self.centralOnly(.admitted))),
            ("POST /v1/plans/{plan}/enrollments", Case(method: "POST", path: "/v1/plans/\(plan)/enrollments", body: "{\"entities\": [\"08001\"], \"from\": \"2021-01\"}", expect: Self.centralOnly(.admitted))),
            ("POST /v1/plans/{plan}/enrollments/{entity}/end", Case(method: "POST", path: "/v1/plans/\(plan)/enrollments/76001/end", body: "{\"to\": \"2021-12\"}", expect: Self.centralOnly(.admitted))),
            ("POST /v1/imports/enrollments", Case(method: "POST", path: "/v1/imports/enrollments?dry_run=true", body: "plan,entity,from\n", contentType: "text/csv", expect: Self.centralOnly(.admitted))),
            ("POST /v1/imports/assignments", Case(method: "POST", path: "/v1/imports/assignments?dry_run=true", body: "plan,entity,advisor_email,from\n", contentType: "text/csv", expect: Self.centralOnly(.admitted))),
            ("POST /v1/imports/fase2-list", Case(method: "POST", path: "/v1/imports/fase2-list", body: "municipio,departamento\n", contentType: "text/csv", expect: Self.centralOnly(.admitted))),
            // Schedule exceptions (Decreto 683): the central team only; the removal follows the setting.
            ("POST /v1/plans/{code}/schedule/exceptions", Case(method: "POST", path: "/v1/plans/\(plan)/schedule/exceptions", body: "{\"reason\": \"Decreto 683\", \"due\": {\"H22\": \"2020-07-15\"}, \"entities\": [\"05001\"]}", expect: Self.centralOnly())),
            ("DELETE /v1/plans/{code}/schedule/exceptions/{entity}", Case(method: "DELETE", path: "/v1/plans/\(plan)/schedule/exceptions/05001?reason=Revision", expect: Self.centralOnly(.admitted))),
            // Group sets and attributes (issue 15): the central team only.
            ("POST /v1/group-sets", Case(method: "POST", path: "/v1/group-sets", body: "{\"code\": \"matriz\", \"name\": \"Conjunto matriz\", \"groups\": [{\"code\": \"a\", \"name\": \"A\"}]}", expect: Self.centralOnly())),
            ("PUT /v1/group-sets/{set}", Case(method: "PUT", path: "/v1/group-sets/matriz", body: "{\"name\": \"Conjunto matriz 2\"}", expect: Self.centralOnly())),
            ("POST /v1/imports/group-members", Case(method: "POST", path: "/v1/imports/group-members?dry_run=false", body: "set,group,entity,from\nmatriz,a,05001,2021-01\n", contentType: "text/csv", expect: Self.centralOnly())),
            ("POST /v1/attributes", Case(method: "POST", path: "/v1/attributes", body: "{\"code\": \"matriz\", \"name\": \"Atributo matriz\", \"type\": \"boolean\"}", expect: Self.centralOnly())),
            ("PUT /v1/attributes/{code}", Case(method: "PUT", path: "/v1/attributes/matriz", body: "{\"name\": \"Atributo matriz 2\"}", expect: Self.centralOnly())),
            ("POST /v1/imports/attribute-values", Case(method: "POST", path: "/v1/imports/attribute-values?dry_run=false", body: "entity,attribute,value\n05001,matriz,true\n", contentType: "text/csv", expect: Self.centralOnly())),
            ("DELETE /v1/attributes/{code}", Case(method: "DELETE", path: "/v1/attributes/matriz", expect: Self.centralOnly())),
            ("DELETE /v1/group-sets/{set}", Case(method: "DELETE", path: "/v1/group-sets/matriz", expect: Self.centralOnly())),
            // Last: a cut locks months.
            ("POST /v1/cuts", Case(method: "POST", path: "/v1/cuts", body: "{\"plan\": \"\(plan)\", \"period\": \"2021-03\", \"label\": \"Corte matriz\"}", expect: Self.centralOnly(.admitted))),
        ]
        cases += others.filter { present.contains($0.0) }.map(\.1)
        // Every route listed above exists now; a route renamed by its area shows up here.
        #expect(cases.count == 11 + others.count, "missing: \(others.filter { !present.contains($0.0) }.map(\.0))")
        let covered = Set(cases.compactMap { c in
            present.first { route in
                let parts = route.split(separator: " ", maxSplits: 1)
                return parts[0] == c.method && Self.matches(String(parts[1]), c.path)
            }
        })
        let untested = present.filter { !$0.hasPrefix("GET ") && !$0.hasPrefix("HEAD ") }.subtracting(covered)
        #expect(untested.isEmpty, "write routes missing from the matrix: \(untested.sorted())")

        let personIds: [Caller: Int64] = [
            .advisorAssigned: assigned.id, .advisorUnassigned: unassigned.id, .coordinatorOfRegion: coordinator.id,
            .coordinatorOtherRegion: otherCoordinator.id, .central: h.centralId, .viewer: viewer.id,
        ]
        var logged: [String] = []
        for c in cases {
            // The central team goes last on each route so that its write does not change what the others see.
            for caller in Caller.allCases.filter({ $0 != .central }) + [.central] {
                guard let expected = c.expect[caller] else { continue }
                let token: String?? = .some(tokens[caller] ?? nil)
                let logBefore = try h.count("SELECT COALESCE(max(id), 0) FROM audit_log")
                let r = c.contentType == "application/json"
                    ? try h.call(c.method, c.path, json: c.body, token: token)
                    : try h.send(c.method, c.path, body: c.body ?? "", contentType: c.contentType, token: token)
                #expect(expected.accepts(r.status), "\(caller) \(c.method) \(c.path): expected \(expected), got \(r.status) \(r.text.prefix(200))")
                if r.status == 401 { #expect(r.header("WWW-Authenticate") != nil) }
                // The change log (issue 15): a refused write or a dry run logs nothing; a write that succeeded
                // is logged, every row under the caller's name.
                let written = try h.count("SELECT count(*) FROM audit_log WHERE id > \(logBefore)")
                let byOthers = try h.count("SELECT count(*) FROM audit_log WHERE id > \(logBefore) AND actor_id IS DISTINCT FROM \(personIds[caller] ?? -1)")
                let call = "\(caller) \(c.method) \(c.path) (\(r.status))"
                if (200..<300).contains(r.status) && !c.path.contains("dry_run=true") && !Self.changesNothing(c, r) {
                    #expect(written > 0, "not in the change log: \(call)")
                    logged.append(call)
                } else {
                    #expect(written == 0, "logged although nothing should be written: \(call)")
                }
                #expect(byOthers == 0, "logged under another actor: \(call)")
            }
        }
        // The writes that succeeded are many (every route, and more than one caller on the scoped ones).
        #expect(logged.count >= 20, "\(logged)")
        // The token's secret and its hash never reach the log.
        #expect(try h.count("SELECT count(*) FROM audit_log WHERE table_name = 'tokens' AND (before ? 'token_hash' OR after ? 'token_hash')") == 0)
        // Refused writes left nothing behind: the unassigned advisor and the other coordinator wrote no report.
        #expect(try h.count("SELECT count(*) FROM report_revisions WHERE author_id IN (\(unassigned.id), \(otherCoordinator.id))") == 0)
        #expect(try h.count("SELECT count(*) FROM asesorias WHERE person_id IN (\(unassigned.id), \(otherCoordinator.id), \(viewer.id))") == 0)
    }

    /// 2xx answers that change nothing by design: the fase2-list import with an empty list reads only, and a
    /// report sent again as it stands (`changed: false`).
    static func changesNothing(_ c: Case, _ r: TestResponse) -> Bool {
        c.path.hasPrefix("/v1/imports/fase2-list") || r.json["changed"] as? Bool == false
    }

    /// Whether a concrete path fits a route pattern with {parameters}.
    static func matches(_ pattern: String, _ path: String) -> Bool {
        let p = pattern.split(separator: "/"), s = path.split(separator: "?")[0].split(separator: "/")
        return p.count == s.count && zip(p, s).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
    }
}
