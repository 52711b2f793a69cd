// People, tokens, partners and assignments: unique emails, deactivation keeping history, transfers, overlaps refused.
import Foundation
import Synchronization
import Testing
@testable import SetaAPI

@Suite("People API")
struct PeopleTests {
    static func createPerson(_ h: APIHarness, _ json: String) throws -> Int64 {
        let r = try h.call("POST", "/v1/people", json: json)
        #expect(r.status == 201, "\(r.text)")
        return Int64(r.json["id"] as? Int ?? 0)
    }

    // MARK: People

    @Test("a person is created, read, found by role, region and partner, and edited")
    func personLifecycle() throws {
        let h = try APIHarness()
        let id = try Self.createPerson(h, #"{"name":"Ana Pérez","email":"Ana.Perez@dnp.gov.co","role":"coordinator","partner":"dnp","regions":["caribe","llano"]}"#)
        let read = try h.call("GET", "/v1/people/\(id)")
        #expect(read.json["partner"] as? String == "DNP")
        #expect(read.json["regions"] as? [String] == ["caribe", "llano"])
        #expect(read.json["active"] as? Bool == true)
        #expect(try h.call("GET", "/v1/people?role=coordinator").items.compactMap { $0["id"] as? Int } == [Int(id)])
        #expect(try h.call("GET", "/v1/people?region=llano").total == 1)
        #expect(try h.call("GET", "/v1/people?partner=DNP").total == 1)
        #expect(try h.call("GET", "/v1/people?partner=ART").total == 0)
        #expect(try h.call("GET", "/v1/people?role=pilot").fieldErrors == ["role"])

        let edited = try h.call("PATCH", "/v1/people/\(id)", json: #"{"name":"Ana M. Pérez","regions":["pacifico"],"partner":null}"#)
        #expect(edited.status == 200)
        #expect(edited.json["name"] as? String == "Ana M. Pérez")
        #expect(edited.json["regions"] as? [String] == ["pacifico"])
        #expect(edited.json["partner"] == nil)
        #expect(edited.json["email"] as? String == "Ana.Perez@dnp.gov.co")
        #expect(try h.call("PATCH", "/v1/people/\(id)", json: #"{"activ":false}"#).fieldErrors == ["activ"])
        #expect(try h.call("PATCH", "/v1/people/\(id)", json: #"{"regions":[]}"#).fieldErrors == ["regions"])
        #expect(try h.call("PATCH", "/v1/people/999999", json: #"{"name":"X"}"#).status == 404)
    }

    @Test("an email already registered, in any case, is a 409 naming email, and nothing is written")
    func duplicateEmail() throws {
        let h = try APIHarness()
        let id = try Self.createPerson(h, #"{"name":"Luis","email":"luis@dnp.gov.co","role":"advisor"}"#)
        let before = try h.rowCount("people")
        let r = try h.call("POST", "/v1/people", json: #"{"name":"Otro Luis","email":"LUIS@DNP.GOV.CO","role":"advisor"}"#)
        #expect(r.status == 409)
        #expect(r.fieldErrors == ["email"])
        let other = try Self.createPerson(h, #"{"name":"Marta","email":"marta@dnp.gov.co","role":"advisor"}"#)
        #expect(try h.call("PATCH", "/v1/people/\(other)", json: #"{"email":"Luis@dnp.gov.co"}"#).fieldErrors == ["email"])
        // Changing the case of one's own email is not a conflict.
        #expect(try h.call("PATCH", "/v1/people/\(id)", json: #"{"email":"Luis@dnp.gov.co"}"#).status == 200)
        #expect(try h.rowCount("people") == before + 1)
    }

    @Test("an unknown role, partner or region is a 422 naming the field, and nothing is written")
    func unknownReferences() throws {
        let h = try APIHarness()
        let before = try h.rowCount("people")
        #expect(try h.call("POST", "/v1/people", json: #"{"name":"X","email":"x@y.co","role":"boss"}"#).fieldErrors == ["role"])
        #expect(try h.call("POST", "/v1/people", json: #"{"name":"X","email":"x@y.co","role":"advisor","partner":"UN"}"#).fieldErrors == ["partner"])
        #expect(try h.call("POST", "/v1/people", json: #"{"name":"X","email":"x@y.co","role":"coordinator","regions":["caribe","atlantida"]}"#).fieldErrors == ["regions[1]"])
        #expect(try h.call("POST", "/v1/people", json: #"{"name":"X","email":"x@y.co","role":"coordinator"}"#).fieldErrors == ["regions"])
        #expect(try h.call("POST", "/v1/people", json: #"{"name":"X","email":"not-an-email","role":"advisor"}"#).fieldErrors == ["email"])
        #expect(try h.call("POST", "/v1/people", json: #"{"name":" ","email":"x@y.co","role":"advisor"}"#).fieldErrors == ["name"])
        #expect(try h.call("POST", "/v1/people", json: #"{"email":"x@y.co","role":"advisor"}"#).fieldErrors == ["name"])
        #expect(try h.rowCount("people") == before)
    }

    @Test("deactivating keeps the person and their assignments, and their tokens stop working")
    func deactivation() throws {
        let h = try APIHarness()
        let advisor = try h.person(role: "advisor")
        #expect(try h.call("POST", "/v1/plans/gap-2020-f1/enrollments", json: #"{"from":"2020-03","entities":["05001"]}"#).status == 201)
        #expect(try h.call("POST", "/v1/assignments", json: #"{"plan":"gap-2020-f1","entity":"05001","advisor":\#(advisor.id),"from":"2020-03"}"#).status == 201)
        #expect(try h.call("GET", "/v1/people/\(advisor.id)", token: advisor.token).status == 200)
        let r = try h.call("PATCH", "/v1/people/\(advisor.id)", json: #"{"active":false}"#)
        #expect(r.status == 200)
        #expect(r.json["active"] as? Bool == false)
        #expect(r.json["open_assignments"] as? Int == 1)
        #expect(try h.call("GET", "/v1/people/\(advisor.id)", token: advisor.token).status == 401)
        #expect(try h.call("GET", "/v1/assignments?advisor=\(advisor.id)").total == 1)
        #expect(try h.call("GET", "/v1/people?active=false").total == 1)
        #expect(try h.call("DELETE", "/v1/people/\(advisor.id)").status == 405)
        // The central team cannot lock itself out.
        #expect(try h.call("PATCH", "/v1/people/\(h.centralId)", json: #"{"active":false}"#).status == 409)
    }

    @Test("a token is shown once on creation, listed without its secret, and stops working when revoked")
    func tokens() throws {
        let h = try APIHarness()
        let id = try Self.createPerson(h, #"{"name":"Vera","email":"vera@dnp.gov.co","role":"viewer"}"#)
        let created = try h.call("POST", "/v1/people/\(id)/tokens", json: #"{"label":"portátil","expires_in_days":30}"#)
        #expect(created.status == 201)
        #expect(created.header("Cache-Control") == "no-store")
        let secret = try #require(created.json["token"] as? String)
        #expect(secret.hasPrefix("seta_"))
        #expect(try h.call("GET", "/v1/regions", token: secret).status == 200)

        let listed = try h.call("GET", "/v1/people/\(id)/tokens", token: secret)
        #expect(listed.status == 200)
        #expect(!listed.text.contains(secret) && !listed.text.contains("hash"))
        #expect(listed.items.first?["label"] as? String == "portátil" && listed.items.first?["active"] as? Bool == true)

        #expect(try h.call("POST", "/v1/people/\(id)/tokens", json: #"{"expires_in_days":731}"#).fieldErrors == ["expires_in_days"])
        #expect(try h.call("POST", "/v1/people/\(id)/tokens", json: "{}").status == 201)
        let tokenId = try #require(created.json["id"] as? Int)
        #expect(try h.call("DELETE", "/v1/tokens/\(tokenId)").status == 204)
        #expect(try h.call("GET", "/v1/regions", token: secret).status == 401)
        #expect(try h.call("GET", "/v1/people/\(id)/tokens").items.first?["revoked_at"] != nil)
        #expect(try h.call("DELETE", "/v1/tokens/999999").status == 404)
    }

    @Test("DNP, DAFP and ART are seeded; a partner can be added once")
    func partners() throws {
        let h = try APIHarness()
        #expect(try h.call("GET", "/v1/partners").items.compactMap { $0["code"] as? String } == ["ART", "DAFP", "DNP"])
        let created = try h.call("POST", "/v1/partners", json: #"{"code":"ESAP","name":"Escuela Superior de Administración Pública"}"#)
        #expect(created.status == 201)
        #expect(try h.call("GET", try #require(created.header("Location"))).json["name"] as? String == "Escuela Superior de Administración Pública")
        #expect(try h.call("GET", "/v1/partners/dafp").json["code"] as? String == "DAFP")
        #expect(try h.call("GET", "/v1/partners/UN").status == 404)
        #expect(try h.call("POST", "/v1/partners", json: #"{"code":"esap","name":"Otra"}"#).fieldErrors == ["code"])
        #expect(try h.call("POST", "/v1/partners", json: #"{"code":"E S","name":"Otra"}"#).status == 422)
        #expect(try h.call("GET", "/v1/partners").total == 4)
    }

    @Test("advisors and viewers get 403 on people, token, partner and assignment writes")
    func writesNeedCentral() throws {
        let h = try APIHarness()
        let advisor = try h.person(role: "advisor"), viewer = try h.person(role: "viewer")
        let writes: [(String, String, String)] = [
            ("POST", "/v1/people", #"{"name":"X","email":"x@y.co","role":"central"}"#),
            ("PATCH", "/v1/people/\(h.centralId)", #"{"role":"viewer"}"#),
            ("POST", "/v1/people/\(h.centralId)/tokens", "{}"),
            ("POST", "/v1/partners", #"{"code":"X","name":"X"}"#),
            ("POST", "/v1/assignments", #"{"plan":"gap-2020-f1","entity":"05001","advisor":\#(advisor.id),"from":"2020-03"}"#),
            ("POST", "/v1/assignments/1/end", #"{"to":"2020-09"}"#),
        ]
        for who in [advisor, viewer] {
            for (method, path, body) in writes {
                #expect(try h.call(method, path, json: body, token: who.token).status == 403, "\(method) \(path)")
            }
            #expect(try h.call("GET", "/v1/people", token: who.token).status == 403)
            #expect(try h.call("GET", "/v1/people/\(h.centralId)/tokens", token: who.token).status == 403)
        }
        #expect(try h.rowCount("people") == 3 && h.rowCount("partners") == 3 && h.rowCount("assignments") == 0)
    }

    // MARK: Assignments

    static func enroll(_ h: APIHarness, _ codes: [String] = ["05001", "05002"]) throws {
        let list = codes.map { "\"\($0)\"" }.joined(separator: ",")
        #expect(try h.call("POST", "/v1/plans/gap-2020-f1/enrollments", json: #"{"from":"2020-01","entities":[\#(list)]}"#).status == 201)
    }

    static func assign(_ h: APIHarness, entity: String = "05001", advisor: Int64, from: String, to: String? = nil, transfer: Bool = false) throws -> TestResponse {
        try h.call("POST", "/v1/assignments", json: """
            {"plan":"gap-2020-f1","entity":"\(entity)","advisor":\(advisor),"from":"\(from)"\(to.map { ",\"to\":\"\($0)\"" } ?? "")\(transfer ? ",\"close_previous\":true" : "")}
            """)
    }

    @Test("an overlapping assignment of the same entity and plan is refused with 409, and nothing is written")
    func overlapRefused() throws {
        let h = try APIHarness()
        try Self.enroll(h)
        let x = try h.person(role: "advisor"), y = try h.person(role: "advisor")
        #expect(try Self.assign(h, advisor: x.id, from: "2020-01").status == 201)
        let r = try Self.assign(h, advisor: y.id, from: "2020-05")
        #expect(r.status == 409)
        #expect(r.fieldErrors == ["from"])
        #expect(try Self.assign(h, advisor: y.id, from: "2020-01", to: "2020-02").status == 409)
        #expect(try h.rowCount("assignments") == 1)
        // The same assignment sent again is harmless; a different entity is fine.
        #expect(try Self.assign(h, advisor: x.id, from: "2020-01").status == 200)
        #expect(try Self.assign(h, entity: "05002", advisor: y.id, from: "2020-05").status == 201)
        #expect(try h.rowCount("assignments") == 2)
    }

    @Test("transferring E from X to Y from 2020-05 closes X's assignment at 2020-04 in the same request")
    func transfer() throws {
        let h = try APIHarness()
        try Self.enroll(h)
        let x = try h.person(role: "advisor", name: "Xiomara"), y = try h.person(role: "advisor", name: "Yesid")
        #expect(try Self.assign(h, advisor: x.id, from: "2020-01").status == 201)
        let r = try Self.assign(h, advisor: y.id, from: "2020-05", transfer: true)
        #expect(r.status == 201)
        let closed = r.json["closed_previous"] as? [[String: Any]] ?? []
        #expect(closed.count == 1 && closed.first?["to"] as? String == "2020-04" && closed.first?["advisor_name"] as? String == "Xiomara")

        // Who served E in a month: one answer each.
        #expect(try h.call("GET", "/v1/assignments?entity=05001&as_of=2020-04").items.compactMap { $0["advisor_name"] as? String } == ["Xiomara"])
        #expect(try h.call("GET", "/v1/assignments?entity=05001&as_of=2020-05").items.compactMap { $0["advisor_name"] as? String } == ["Yesid"])
        // Which entities X served in a month.
        #expect(try Self.assign(h, entity: "05002", advisor: x.id, from: "2020-02").status == 201)
        #expect(try h.call("GET", "/v1/assignments?advisor=\(x.id)&as_of=2020-03").items.compactMap { $0["entity_code"] as? String } == ["05001", "05002"])
        #expect(try h.call("GET", "/v1/assignments?advisor=\(x.id)&as_of=2020-06").items.compactMap { $0["entity_code"] as? String } == ["05002"])
        // An advisor reads only their own.
        #expect(try h.call("GET", "/v1/assignments?as_of=2020-06", token: y.token).items.compactMap { $0["entity_code"] as? String } == ["05001"])
        // A transfer cannot close an assignment that starts at or after its month.
        #expect(try Self.assign(h, advisor: x.id, from: "2020-05", transfer: true).status == 409)
    }

    @Test("eight advisors assigned to one entity at once: exactly one wins, the others get 409")
    func concurrentAssignments() throws {
        let h = try APIHarness()
        try Self.enroll(h)
        let advisors = try (0..<8).map { _ in try h.person(role: "advisor").id }
        final class Statuses: Sendable {
            private let seen = Mutex<[Int]>([])
            var all: [Int] { seen.withLock { $0 } }
            func add(_ s: Int) { seen.withLock { $0.append(s) } }
        }
        let statuses = Statuses()
        DispatchQueue.concurrentPerform(iterations: advisors.count) { i in
            statuses.add((try? Self.assign(h, advisor: advisors[i], from: "2020-03").status) ?? 0)
        }
        let seen = statuses.all
        #expect(seen.filter { $0 == 201 }.count == 1)
        #expect(seen.filter { $0 == 409 }.count == 7)
        #expect(try h.rowCount("assignments") == 1)
    }

    @Test("an assignment needs an active advisor or coordinator and an entity enrolled at its first month")
    func assignmentValidation() throws {
        let h = try APIHarness()
        try Self.enroll(h)
        let viewer = try h.person(role: "viewer"), x = try h.person(role: "advisor")
        #expect(try Self.assign(h, advisor: viewer.id, from: "2020-03").fieldErrors == ["advisor"])
        #expect(try Self.assign(h, advisor: 999_999, from: "2020-03").fieldErrors == ["advisor"])
        #expect(try Self.assign(h, entity: "05004", advisor: x.id, from: "2020-03").fieldErrors == ["entity"])
        #expect(try Self.assign(h, advisor: x.id, from: "2019-12").fieldErrors == ["entity"])
        #expect(try Self.assign(h, advisor: x.id, from: "2020-03", to: "2020-02").fieldErrors == ["to"])
        #expect(try h.call("POST", "/v1/assignments", json: #"{"plan":"nope","entity":"99999","advisor":\#(x.id),"from":"2020-03"}"#).fieldErrors == ["plan", "entity"])
        #expect(try h.call("PATCH", "/v1/people/\(x.id)", json: #"{"active":false}"#).status == 200)
        #expect(try Self.assign(h, advisor: x.id, from: "2020-03").fieldErrors == ["advisor"])
        #expect(try h.rowCount("assignments") == 0)
    }

    @Test("ending an assignment sets its last month; extending it over the next one is a 409")
    func endAssignment() throws {
        let h = try APIHarness()
        try Self.enroll(h)
        let x = try h.person(role: "advisor"), y = try h.person(role: "coordinator", regions: ["caribe"])
        let first = try Self.assign(h, advisor: x.id, from: "2020-01", to: "2020-03")
        let id = try #require(first.json["id"] as? Int)
        #expect(try Self.assign(h, advisor: y.id, from: "2020-06").status == 201)
        #expect(try h.call("POST", "/v1/assignments/\(id)/end", json: #"{"to":"2020-05"}"#).json["to"] as? String == "2020-05")
        #expect(try h.call("POST", "/v1/assignments/\(id)/end", json: #"{"to":"2020-07"}"#).status == 409)
        #expect(try h.call("POST", "/v1/assignments/\(id)/end", json: #"{"to":"2019-12"}"#).fieldErrors == ["to"])
        #expect(try h.call("POST", "/v1/assignments/999999/end", json: #"{"to":"2020-07"}"#).status == 404)
        #expect(try h.call("GET", "/v1/assignments/\(id)").json["to"] as? String == "2020-05")
    }
}
