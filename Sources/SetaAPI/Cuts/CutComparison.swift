// Comparing two cuts (cortes) group by group: means, phase and milestone completion shares, stages (issue 12 item 5).
import Foundation
import SetaDatabase
import SetaDomain

enum CutComparison {
    /// Two cuts of one plan side by side: every visible group of `kinds` and every entity the caller sees in
    /// either (a plan mismatch is 422 naming `b`).
    static func compare(_ conn: Connection, a: CutStore.CutRow, b: CutStore.CutRow, kinds: [GroupKind],
                        caller: Principal) throws -> CutComparisonDTO {
        guard a.plan == b.plan else {
            throw StoreError.invalid(field: "b", "Los cortes comparados deben ser del mismo plan (\(a.plan) ≠ \(b.plan)).")
        }
        let changes = try entities(conn, a: a.id, b: b.id, caller: caller)
        guard let catalogA = try CatalogStore.catalog(conn, code: a.plan, version: a.catalogVersion),
              let catalogB = try CatalogStore.catalog(conn, code: b.plan, version: b.catalogVersion) else {
            throw StoreError.notFound("Falta una versión del catálogo de \(a.plan).")
        }
        let groups = try self.groups(conn, a: (a.id, catalogA), b: (b.id, catalogB), kinds: kinds, caller: caller)
        return CutComparisonDTO(a: CutRoutes.dto(a), b: CutRoutes.dto(b), groups: groups, entities: changes)
    }

    /// Each visible entity's frozen total in both cuts and the change (b − a), by DANE code; an entity in only
    /// one cut has the other side null.
    static func entities(_ conn: Connection, a: Int64, b: Int64, caller: Principal) throws -> [CutComparisonDTO.EntityChange] {
        var totalsA: [String: (String, Decimal?)] = [:]
        try CutStore.entities(conn, cut: a) { e in if CutRoutes.visible(e, to: caller) { totalsA[e.code] = (e.name, e.total) } }
        var changes: [CutComparisonDTO.EntityChange] = []
        var seen = Set<String>()
        try CutStore.entities(conn, cut: b) { e in
            guard CutRoutes.visible(e, to: caller) else { return }
            seen.insert(e.code)
            let ta = totalsA[e.code]?.1
            changes.append(.init(code: e.code, name: e.name, totalA: ta?.out, totalB: e.total?.out,
                                 change: (ta != nil && e.total != nil) ? (e.total! - ta!).out : nil))
        }
        for (code, v) in totalsA where !seen.contains(code) {
            changes.append(.init(code: code, name: v.0, totalA: v.1?.out, totalB: nil, change: nil))
        }
        return changes.sorted { $0.code < $1.code }
    }

    /// Every visible group of each kind in either cut, with its figures in both and their change (b − a); a group
    /// in only one cut has the other side null. Each cut's figures are read with its own catalog version, matched
    /// by code (a correction between the cuts may add or drop a milestone).
    static func groups(_ conn: Connection, a: (id: Int64, catalog: PlanCatalog), b: (id: Int64, catalog: PlanCatalog),
                       kinds: [GroupKind], caller: Principal) throws -> [CutComparisonDTO.GroupChange] {
        var out: [CutComparisonDTO.GroupChange] = []
        for kind in kinds {
            let ga = CutExport.visibleGroups(try CutStore.groups(conn, cut: a.id, kind: kind, catalog: a.catalog), kind: kind, to: caller)
            let gb = CutExport.visibleGroups(try CutStore.groups(conn, cut: b.id, kind: kind, catalog: b.catalog), kind: kind, to: caller)
            let byKeyA = Dictionary(ga.map { ($0.key, $0) }, uniquingKeysWith: { x, _ in x })
            let byKeyB = Dictionary(gb.map { ($0.key, $0) }, uniquingKeysWith: { x, _ in x })
            var keys = gb.map(\.key)
            keys += ga.map(\.key).filter { byKeyB[$0] == nil }
            for key in keys {
                out.append(change(kind: kind, key: key, a: byKeyA[key], b: byKeyB[key],
                                  phaseOrder: order(b.catalog.phases.sorted { $0.position < $1.position }.map(\.code),
                                                    a.catalog.phases.sorted { $0.position < $1.position }.map(\.code)),
                                  milestoneOrder: order(b.catalog.milestones.sorted { $0.position < $1.position }.map(\.code),
                                                        a.catalog.milestones.sorted { $0.position < $1.position }.map(\.code))))
            }
        }
        return out
    }

    /// b's codes, then those only in a.
    static func order(_ b: [String], _ a: [String]) -> [String] {
        b + a.filter { !b.contains($0) }
    }

    static func diff(_ a: Decimal?, _ b: Decimal?) -> Decimal? {
        guard let a, let b else { return nil }
        return (b - a).out
    }

    static func change(kind: GroupKind, key: String, a: GroupResult?, b: GroupResult?, phaseOrder: [String],
                       milestoneOrder: [String]) -> CutComparisonDTO.GroupChange {
        let ma = a?.summary.meanProgress, mb = b?.summary.meanProgress
        var g = CutComparisonDTO.GroupChange(
            group: kind.rawValue, key: key, name: b?.name ?? a?.name ?? key,
            entityCountA: a?.summary.entityCount, entityCountB: b?.summary.entityCount,
            meanA: ma?.out, meanB: mb?.out, change: diff(ma, mb),
            atHundredA: a?.summary.atHundred, atHundredB: b?.summary.atHundred)
        let pa = a?.summary.phaseCompletionShare ?? [:], pb = b?.summary.phaseCompletionShare ?? [:]
        g.phases = phaseOrder.filter { pa[$0] != nil || pb[$0] != nil }.map { code in
            .init(code: code, a: pa[code]?.out, b: pb[code]?.out, change: diff(pa[code], pb[code]))
        }
        let sa = Dictionary((a?.milestoneShares ?? []).map { ($0.code, $0.share) }, uniquingKeysWith: { x, _ in x })
        let sb = Dictionary((b?.milestoneShares ?? []).map { ($0.code, $0.share) }, uniquingKeysWith: { x, _ in x })
        g.milestones = milestoneOrder.filter { sa[$0] != nil || sb[$0] != nil }.map { code in
            .init(code: code, a: sa[code]?.out, b: sb[code]?.out, change: diff(sa[code], sb[code]))
        }
        let sta = Dictionary((a?.stages ?? []).map { ($0.code, $0) }, uniquingKeysWith: { x, _ in x })
        let stb = Dictionary((b?.stages ?? []).map { ($0.code, $0) }, uniquingKeysWith: { x, _ in x })
        let stageCodes = (b?.stages ?? []).map(\.code) + (a?.stages ?? []).map(\.code).filter { stb[$0] == nil }
        g.stages = stageCodes.map { code in
            let x = sta[code], y = stb[code]
            return .init(code: code, a: x?.mean?.out, b: y?.mean?.out, change: diff(x?.mean, y?.mean),
                         completedShareA: x?.completedShare?.out, completedShareB: y?.completedShare?.out)
        }
        return g
    }
}
