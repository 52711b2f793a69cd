// Group sets and typed attributes: dashboards by a custom set equal the pure engine, imports, filters, cuts, bad input.
import Foundation
import Testing
@testable import SetaAPI
import SetaDatabase
import SetaDomain

@Suite("Group sets and entity attributes", .serialized)
struct GroupSetTests {
    /// A copy of the national demo (with its DEMO groupings) for the suite, which writes sets, attributes and cuts.
    static let shared: APIHarness = try! APIHarness(template: APIHarness.demoTemplate)

    static let plan = "gap-2020-f1"
    static let asOf = Period("2021-06")!

    /// Every group of a roll-up answer equals GroupSummary over the pure engine's progress of its members.
    static func expectGroupsMatch(_ r: TestResponse, membership: [String: String], progress: [String: EntityProgress],
                                  phaseCodes: [String], _ what: String) throws {
        #expect(r.status == 200, "\(what): \(r.text.prefix(300))")
        let items = r.json["items"] as? [[String: Any]] ?? []
        let keys = Set(progress.keys.compactMap { membership[$0] })
        #expect(items.count == keys.count, "\(what): one item per group")
        #expect(!items.isEmpty, "\(what): groups")
        for item in items {
            let key = try #require(item["key"] as? String)
            let members = progress.filter { membership[$0.key] == key }.map { ($0.key, $0.key, $0.value) }
            let expected = GroupSummary.of(entities: members, phaseCodes: phaseCodes)
            #expect(item["entity_count"] as? Int == expected.entityCount, "\(what) \(key) count")
            #expect(DashboardTests.number(item["mean_progress"]) == expected.meanProgress?.rounded(scale: 2), "\(what) \(key) mean")
            #expect(item["at_hundred"] as? Int == expected.atHundred, "\(what) \(key) at 100")
            #expect(DashboardTests.number(item["min"]) == expected.min?.rounded(scale: 2), "\(what) \(key) min")
            #expect(DashboardTests.number(item["max"]) == expected.max?.rounded(scale: 2), "\(what) \(key) max")
            #expect(item["lowest_count"] as? Int == expected.lowest.count, "\(what) \(key) lowest")
            #expect(item["highest_count"] as? Int == expected.highest.count, "\(what) \(key) highest")
            let shares = Dictionary(uniqueKeysWithValues: (item["phase_completion"] as? [[String: Any]] ?? [])
                .map { ($0["phase_code"] as! String, DashboardTests.number($0["completed_share"])) })
            for (phase, share) in expected.phaseCompletionShare {
                #expect(shares[phase] == share.rounded(scale: 2), "\(what) \(key) share \(phase)")
            }
        }
    }

    static func membership(_ h: APIHarness, set: String, month: Period) throws -> [String: String] {
        try h.database.pool.withConnection { conn in
            Dictionary(uniqueKeysWithValues: try conn.query("""
                SELECT entity_code, group_code FROM group_members_at(\(set), \(month.firstDayString)::date)
                """).rows.map { (try $0.decode("entity_code", as: String.self), try $0.decode("group_code", as: String.self)) })
        }
    }

    @Test("a dashboard by a custom group set, created and imported through the API, equals the pure engine's figures")
    func customSetEqualsThePureEngine() throws {
        let h = Self.shared
        let created = try h.call("POST", "/v1/group-sets", json: """
            {"code": "zonas-2020", "name": "Zonas y nodos 2020", "groups": [{"code": "norte", "name": "Zona Norte"}, {"code": "sur", "name": "Zona Sur"}]}
            """)
        #expect(created.status == 201, "\(created.text)")
        // Every entity of a department code below 50 in the north, the rest in the south; a third group created by
        // the import itself (group_name); and ten entities moved to it from 2021-01 (membership by month).
        let (codes, moved) = try h.database.pool.withConnection { conn in
            (try conn.query("SELECT code, department_code FROM entities ORDER BY code").rows
                .map { (try $0.decode("code", as: String.self), try $0.decode("department_code", as: String.self)) },
             try conn.query("SELECT code FROM entities WHERE type = 'municipality' ORDER BY md5(code) LIMIT 10").rows
                .map { try $0.decode("code", as: String.self) })
        }
        var csv = "set,group,entity,from,group_name\n"
        for (code, dep) in codes { csv += "zonas-2020,\(Int(dep)! < 50 ? "norte" : "sur"),\(code),2020-01,\n" }
        for code in moved { csv += "zonas-2020,nodo-centro,\(code),2021-01,Nodo Centro\n" }
        let dry = try h.upload("/v1/imports/group-members", csv: csv)
        #expect(dry.status == 200 && dry.json["created"] as? Int == codes.count + moved.count, "\(dry.text.prefix(300))")
        #expect(try h.rowCount("group_set_members WHERE set_code = 'zonas-2020'") == 0, "a dry run writes nothing")
        let real = try h.upload("/v1/imports/group-members?dry_run=false", csv: csv)
        #expect(real.status == 200, "\(real.text.prefix(300))")

        let (catalog, progress) = try DashboardTests.pureProgress(h, plan: Self.plan, asOf: Self.asOf)
        let phases = catalog.phases.map(\.code)
        let membership = try Self.membership(h, set: "zonas-2020", month: Self.asOf)
        #expect(Set(membership.values) == ["norte", "sur", "nodo-centro"])
        #expect(moved.allSatisfy { membership[$0] == "nodo-centro" })
        let groups = try h.call("GET", "/v1/progress/set:zonas-2020?plan=\(Self.plan)&as_of=\(Self.asOf)")
        try Self.expectGroupsMatch(groups, membership: membership, progress: progress, phaseCodes: phases, "set:zonas-2020")
        #expect(groups.json["group"] as? String == "set:zonas-2020")
        // Kept roll-ups are served again, and equal.
        let again = try h.call("GET", "/v1/progress/set:zonas-2020?plan=\(Self.plan)&as_of=\(Self.asOf)")
        #expect(again.body == groups.body)

        // Before the move (2020-12) the ten entities are still in their zones.
        let (_, progressDec) = try DashboardTests.pureProgress(h, plan: Self.plan, asOf: Period("2020-12")!)
        let december = try Self.membership(h, set: "zonas-2020", month: Period("2020-12")!)
        #expect(!december.values.contains("nodo-centro"))
        try Self.expectGroupsMatch(try h.call("GET", "/v1/progress/set:zonas-2020?plan=\(Self.plan)&as_of=2020-12"),
                                   membership: december, progress: progressDec, phaseCodes: phases, "set:zonas-2020 2020-12")

        // A series gives the same groups month by month.
        let series = try h.call("GET", "/v1/progress/set:zonas-2020/series?plan=\(Self.plan)&from=2020-12&to=2021-06")
        #expect(series.status == 200, "\(series.text.prefix(300))")
        let points = series.json["points"] as? [[String: Any]] ?? []
        #expect(points.count == 7)
        let june = try #require(points.last?["items"] as? [[String: Any]])
        let direct = groups.json["items"] as? [[String: Any]] ?? []
        #expect(june.map { $0["key"] as? String } == direct.map { $0["key"] as? String })
        #expect(june.map { DashboardTests.number($0["mean_progress"]) } == direct.map { DashboardTests.number($0["mean_progress"]) })

        // `set_group` filters any route to one group: the national figure of "sur" is the group's.
        let sur = try h.call("GET", "/v1/progress/national?plan=\(Self.plan)&as_of=\(Self.asOf)&set_group=zonas-2020:sur")
        let surItem = try #require((sur.json["items"] as? [[String: Any]])?.first)
        let surGroup = try #require(direct.first { $0["key"] as? String == "sur" })
        #expect(surItem["entity_count"] as? Int == surGroup["entity_count"] as? Int)
        #expect(DashboardTests.number(surItem["mean_progress"]) == DashboardTests.number(surGroup["mean_progress"]))
        let table = try h.call("GET", "/v1/progress/entities?plan=\(Self.plan)&as_of=\(Self.asOf)&set_group=zonas-2020:nodo-centro")
        #expect(table.json["total"] as? Int == moved.count, "\(table.text.prefix(200))")
        let ranking = try h.call("GET", "/v1/rankings/advisors?plan=\(Self.plan)&period=\(Self.asOf)&set_group=zonas-2020:nodo-centro")
        #expect(ranking.status == 200)
        #expect((ranking.json["items"] as? [[String: Any]] ?? []).reduce(0) { $0 + ($1["entity_count"] as? Int ?? 0) } <= moved.count)
    }

    @Test("the demo's DEMO groupings (universes, PDET, Decreto 683) and a category attribute equal the pure engine too")
    func demoGroupingsEqualThePureEngine() throws {
        let h = Self.shared
        let sets = try h.call("GET", "/v1/group-sets?as_of=2021-06")
        let codes = (sets.json["items"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        #expect(Set(codes).isSuperset(of: ["regiones-pnd", "demo-universos", "demo-pdet", "demo-decreto-683"]))
        let (catalog, progress) = try DashboardTests.pureProgress(h, plan: Self.plan, asOf: Self.asOf)
        let phases = catalog.phases.map(\.code)
        for set in ["demo-universos", "demo-pdet", "demo-decreto-683", "regiones-pnd"] {
            try Self.expectGroupsMatch(try h.call("GET", "/v1/progress/set:\(set)?plan=\(Self.plan)&as_of=\(Self.asOf)"),
                                       membership: try Self.membership(h, set: set, month: Self.asOf), progress: progress,
                                       phaseCodes: phases, "set:\(set)")
        }
        let pdet = try Self.membership(h, set: "demo-pdet", month: Self.asOf)
        #expect(pdet.values.filter { $0 == "pdet" }.count == 170)
        // The shipped PND regionalization is the regions' default membership.
        let pnd = try Self.membership(h, set: "regiones-pnd", month: Self.asOf)
        #expect(pnd.count == 1155)
        let categories = try h.database.pool.withConnection { conn in
            Dictionary(uniqueKeysWithValues: try conn.query("SELECT entity_code, value FROM entity_attribute_values WHERE attribute_code = 'demo-categoria'")
                .rows.map { (try $0.decode("entity_code", as: String.self), try $0.decode("value", as: String.self)) })
        }
        try Self.expectGroupsMatch(try h.call("GET", "/v1/progress/attr:demo-categoria?plan=\(Self.plan)&as_of=\(Self.asOf)"),
                                   membership: categories, progress: progress, phaseCodes: phases, "attr:demo-categoria")
        // `attr.demo-pdet=true` counts the same entities as the DEMO PDET group.
        let filtered = try h.call("GET", "/v1/progress/national?plan=\(Self.plan)&as_of=\(Self.asOf)&attr.demo-pdet=true")
        let item = try #require((filtered.json["items"] as? [[String: Any]])?.first, "\(filtered.text.prefix(300))")
        let members = progress.filter { pdet[$0.key] == "pdet" }.map { ($0.key, $0.key, $0.value) }
        let expected = GroupSummary.of(entities: members, phaseCodes: phases)
        #expect(item["entity_count"] as? Int == 170)
        #expect(DashboardTests.number(item["mean_progress"]) == expected.meanProgress?.rounded(scale: 2))
        // `sí` means true for a boolean; two filters are ANDed.
        let si = try h.call("GET", "/v1/progress/national?plan=\(Self.plan)&as_of=\(Self.asOf)&attr.demo-pdet=s%C3%AD&attr.demo-categoria=6")
        #expect(si.status == 200)
        let both = (si.json["items"] as? [[String: Any]])?.first?["entity_count"] as? Int ?? 0
        #expect(both == progress.keys.filter { pdet[$0] == "pdet" && categories[$0] == "6" }.count)
        // Categories match without regard to case, as the import does.
        let lower = try h.call("GET", "/v1/progress/national?plan=\(Self.plan)&as_of=\(Self.asOf)&attr.demo-categoria=e")
        #expect((lower.json["items"] as? [[String: Any]])?.first?["entity_count"] as? Int
                == progress.keys.filter { categories[$0] == "E" }.count)
    }

    @Test("the entity table shows attribute values, and its CSV export has a column per attribute")
    func attributesInTheEntityTable() throws {
        let h = Self.shared
        let r = try h.call("GET", "/v1/progress/entities?plan=\(Self.plan)&as_of=\(Self.asOf)&sort=code&limit=3")
        let first = try #require((r.json["items"] as? [[String: Any]])?.first)
        let attributes = try #require(first["attributes"] as? [String: String], "\(r.text.prefix(400))")
        #expect(attributes["demo-kpt"] == "true" || attributes["demo-kpt"] == "false")
        let csv = try h.call("GET", "/v1/progress/entities?plan=\(Self.plan)&as_of=\(Self.asOf)&sort=code&limit=3&format=csv")
        let header = csv.text.split(separator: "\r\n").first.map(String.init) ?? ""
        #expect(header.contains("attr.demo-categoria") && header.contains("attr.demo-kpt"), "\(header)")
    }

    @Test("attribute values are imported with a dry run; a wrong-typed value is rejected with its line and field and nothing is written")
    func attributeImport() throws {
        let h = Self.shared
        let def = try h.call("POST", "/v1/attributes", json: #"{"code": "poblacion", "name": "Población 2020", "type": "number"}"#)
        #expect(def.status == 201, "\(def.text)")
        #expect(try h.call("POST", "/v1/attributes", json: #"{"code": "nivel", "name": "Nivel", "type": "category"}"#).status == 422)
        let bad = "entity,attribute,value\n05001,poblacion,2533424\n5002,poblacion,muchos\n05004,poblacion,\"1.234,5\"\n05021,nope,1\n"
        let r = try h.upload("/v1/imports/attribute-values?dry_run=false", csv: bad)
        #expect(r.status == 422, "\(r.text.prefix(300))")
        #expect(r.fieldErrors == ["line[3].value", "line[4].value", "line[5].attribute"], "\(r.fieldErrors)")
        #expect(try h.rowCount("entity_attribute_values WHERE attribute_code = 'poblacion'") == 0)
        let good = "entity,attribute,value\n05001,poblacion,2533424\n5002,poblacion,\"19015,50\"\n"
        let ok = try h.upload("/v1/imports/attribute-values?dry_run=false", csv: good)
        #expect(ok.status == 200 && ok.json["created"] as? Int == 2, "\(ok.text.prefix(300))")
        #expect(try h.upload("/v1/imports/attribute-values?dry_run=false", csv: good).json["ignored"] as? Int == 2)
        // Numbers compare as numbers.
        let filtered = try h.call("GET", "/v1/progress/entities?plan=\(Self.plan)&as_of=\(Self.asOf)&attr.poblacion=19015.5")
        #expect((filtered.json["items"] as? [[String: Any]])?.map { $0["code"] as? String } == ["05002"], "\(filtered.text.prefix(300))")
    }

    @Test("an unknown set, group or attribute is 422 naming it")
    func unknownReferences() throws {
        let h = Self.shared
        let base = "plan=\(Self.plan)&as_of=\(Self.asOf)"
        #expect(try h.call("POST", "/v1/attributes", json: #"{"code": "nota", "name": "Nota", "type": "text"}"#).status == 201)
        _ = try h.upload("/v1/imports/attribute-values?dry_run=false", csv: "entity,attribute,value\n05001,nota,una nota\n")
        // A boolean groups as a yes/no split.
        let kpt = try h.call("GET", "/v1/progress/attr:demo-kpt?\(base)")
        #expect((kpt.json["items"] as? [[String: Any]])?.map { $0["key"] as? String } == ["false", "true"])
        let cases: [(String, String)] = [
            ("/v1/progress/set:no-existe?\(base)", "group"),
            ("/v1/progress/set:no-existe/series?plan=\(Self.plan)&from=2021-01&to=2021-02", "group"),
            ("/v1/progress/attr:no-existe?\(base)", "group"),
            ("/v1/progress/attr:nota?\(base)", "group"),          // text: not a grouping
            ("/v1/progress/national?\(base)&set_group=no-existe:A", "set_group"),
            ("/v1/progress/national?\(base)&set_group=demo-universos:Z", "set_group"),
            ("/v1/progress/entities?\(base)&attr.no-existe=1", "attr.no-existe"),
            ("/v1/progress/national?\(base)&attr.demo-pdet=quizas", "attr.demo-pdet"),
            ("/v1/rankings/advisors?plan=\(Self.plan)&period=\(Self.asOf)&attr.no-existe=1", "attr.no-existe"),
            ("/v1/group-sets/demo-universos/members?group=Z", "group"),
        ]
        for (path, field) in cases {
            let r = try h.call("GET", path)
            #expect(r.status == 422 && r.fieldErrors == [field], "\(path): \(r.status) \(r.text.prefix(200))")
        }
        #expect(try h.call("GET", "/v1/group-sets/no-existe").status == 404)
        #expect(try h.call("GET", "/v1/progress/bogus?\(base)").status == 404)
        let csv = "set,group,entity,from\nno-existe,A,05001,2020-01\ndemo-universos,Z,05001,2020-01\n"
        let r = try h.upload("/v1/imports/group-members?dry_run=false", csv: csv)
        #expect(r.status == 422 && r.fieldErrors == ["line[2].set", "line[3].group"], "\(r.text.prefix(300))")
    }

    @Test("a cut freezes every set's roll-ups; deleting the set later keeps the cut's copy")
    func cutsKeepTheirFrozenCopy() throws {
        let h = Self.shared
        #expect(try h.call("POST", "/v1/group-sets", json: #"{"code": "efimero", "name": "Conjunto efímero", "groups": [{"code": "uno", "name": "Uno"}]}"#).status == 201)
        let imported = try h.upload("/v1/imports/group-members?dry_run=false", csv: "set,group,entity,from\nefimero,uno,05001,2020-01\nefimero,uno,05002,2020-01\n")
        #expect(imported.status == 200)
        let live = try h.call("GET", "/v1/progress/set:efimero?plan=gap-2020-f2&as_of=2021-03")
        let cut = try h.call("POST", "/v1/cuts", json: #"{"plan":"gap-2020-f2","period":"2021-03","label":"Corte con conjuntos"}"#)
        #expect(cut.status == 201, "\(cut.text.prefix(300))")
        let id = try #require(cut.json["id"] as? Int)
        let listed = try h.call("GET", "/v1/cuts/\(id)/group-sets")
        #expect((listed.json["items"] as? [[String: Any]] ?? []).contains { $0["code"] as? String == "efimero" })
        let frozen = try h.call("GET", "/v1/cuts/\(id)/group-sets/efimero")
        #expect(frozen.status == 200, "\(frozen.text.prefix(300))")
        let liveItems = live.json["items"] as? [[String: Any]] ?? []
        let frozenItems = frozen.json["items"] as? [[String: Any]] ?? []
        #expect(frozenItems.map { $0["entity_count"] as? Int } == liveItems.map { $0["entity_count"] as? Int })
        #expect(frozenItems.map { DashboardTests.number($0["mean_progress"]) } == liveItems.map { DashboardTests.number($0["mean_progress"]) })

        #expect(try h.call("DELETE", "/v1/group-sets/efimero").status == 204)
        #expect(try h.call("GET", "/v1/progress/set:efimero?plan=gap-2020-f2&as_of=2021-03").status == 422)
        let after = try h.call("GET", "/v1/cuts/\(id)/group-sets/efimero")
        #expect(after.status == 200 && after.body == frozen.body, "\(after.text.prefix(300))")
        #expect(after.json["name"] as? String == "Conjunto efímero")
        // Coordinators do not read frozen sets (they cross regions).
        let coordinator = try h.person(role: "coordinator", regions: ["caribe"])
        #expect(try h.call("GET", "/v1/cuts/\(id)/group-sets", token: coordinator.token).status == 403)
    }

    @Test("moving an entity to another group is seen by the next read: kept roll-ups are never stale")
    func rollUpsFollowMembership() throws {
        let h = Self.shared
        #expect(try h.call("POST", "/v1/group-sets", json: #"{"code": "mover", "name": "Mover", "groups": [{"code": "a", "name": "A"}, {"code": "b", "name": "B"}]}"#).status == 201)
        _ = try h.upload("/v1/imports/group-members?dry_run=false", csv: "set,group,entity,from\nmover,a,05001,2020-01\nmover,a,05002,2020-01\n")
        let path = "/v1/progress/set:mover?plan=\(Self.plan)&as_of=\(Self.asOf)"
        let before = try h.call("GET", path)
        #expect((before.json["items"] as? [[String: Any]])?.map { $0["key"] as? String } == ["a"])
        _ = try h.upload("/v1/imports/group-members?dry_run=false", csv: "set,group,entity,from\nmover,b,05002,2021-06\n")
        let after = try h.call("GET", path)
        #expect((after.json["items"] as? [[String: Any]])?.map { $0["entity_count"] as? Int } == [1, 1], "\(after.text.prefix(300))")
        // Leaving the set (an empty group) from a month on.
        _ = try h.upload("/v1/imports/group-members?dry_run=false", csv: "set,group,entity,from\nmover,,05001,2021-06\n")
        #expect((try h.call("GET", path).json["items"] as? [[String: Any]])?.map { $0["key"] as? String } == ["b"])
        // Only the central team writes.
        let advisor = try h.person(role: "advisor")
        #expect(try h.call("POST", "/v1/group-sets", json: #"{"code": "x", "name": "X"}"#, token: advisor.token).status == 403)
    }
    @Test("the central team renames sets and groups and edits categories; an attribute's type never changes")
    func editing() throws {
        let h = Self.shared
        #expect(try h.call("POST", "/v1/group-sets", json: #"{"code": "hubs", "name": "Hubs", "groups": [{"code": "h1", "name": "Hub 1"}]}"#).status == 201)
        #expect(try h.call("POST", "/v1/group-sets", json: #"{"code": "hubs", "name": "Otra vez"}"#).status == 409)
        #expect(try h.call("POST", "/v1/group-sets", json: #"{"code": "Hubs!", "name": "Mal"}"#).fieldErrors == ["code"])
        let put = try h.call("PUT", "/v1/group-sets/hubs", json: #"{"name": "Hubs 2020", "groups": [{"code": "h1", "name": "Hub Norte"}, {"code": "h2", "name": "Hub Sur"}]}"#)
        #expect(put.status == 200, "\(put.text)")
        #expect(put.json["name"] as? String == "Hubs 2020")
        #expect((put.json["groups"] as? [[String: Any]])?.map { $0["name"] as? String } == ["Hub Norte", "Hub Sur"])
        #expect(try h.call("PUT", "/v1/group-sets/nada", json: #"{"name": "X"}"#).status == 404)
        #expect(try h.call("POST", "/v1/attributes", json: #"{"code": "zona", "name": "Zona", "type": "category", "categories": ["urbana", "rural"]}"#).status == 201)
        _ = try h.upload("/v1/imports/attribute-values?dry_run=false", csv: "entity,attribute,value\n05001,zona,URBANA\n")
        #expect(try h.call("PUT", "/v1/attributes/zona", json: #"{"name": "Zona", "type": "number"}"#).status == 409)
        #expect(try h.call("PUT", "/v1/attributes/zona", json: #"{"name": "Zona", "categories": ["rural"]}"#).status == 409)
        let ok = try h.call("PUT", "/v1/attributes/zona", json: #"{"name": "Zona DANE", "categories": ["urbana", "rural", "mixta"]}"#)
        #expect(ok.status == 200 && ok.json["value_count"] as? Int == 1, "\(ok.text)")
        #expect(try h.call("DELETE", "/v1/attributes/zona").status == 204)
        #expect(try h.rowCount("entity_attribute_values WHERE attribute_code = 'zona'") == 0)
    }

    @Test("the contract admits any attr.<code> through one prefix declaration, and still refuses the bare prefix")
    func prefixParameters() throws {
        let declared = QueryParameter.declared(method: "GET", pattern: "/v1/progress/{group}")
        #expect(declared.contains { $0.name == "attr." && $0.namePrefix })
        try QueryParameter.check([("attr.pdet", "true"), ("attr.categoria", "6")], declared: declared)
        #expect(throws: APIError.self) { try QueryParameter.check([("attr.", "true")], declared: declared) }
        #expect(throws: APIError.self) { try QueryParameter.check([("attr.pdet", "true"), ("attr.pdet", "false")], declared: declared) }
        #expect(throws: APIError.self) { try QueryParameter.check([("attrpdet", "true")], declared: declared) }
    }
}
