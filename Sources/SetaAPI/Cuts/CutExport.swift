// The layouts of a cut's (corte) exports: the entity table (CSV) and the workbook (Ficha, groups, entities).
import Foundation
import SetaDatabase
import SetaDomain
import SetaFormats

/// Writes a frozen cut through a table sink. Everything comes from the cut's rows and its catalog version,
/// never from live data, so an export of a cut is the same whenever it is taken.
struct CutExport {
    var cut: CutStore.CutRow
    var catalog: PlanCatalog
    var caller: Principal
    /// The historic CSV columns (byte-identical to earlier releases) rather than the full layout.
    var legacyColumns: Bool

    /// The group kinds (tipos de grupo) a reader sees in a cut, as `GET /v1/cuts/{id}` shows them: every kind
    /// for the central team and unrestricted viewers; their own regions for coordinators and regional viewers;
    /// none for advisors (a group figure would include entities outside their scope).
    static func visibleGroupKinds(_ p: Principal) -> [GroupKind] {
        switch p.role {
        case .central: return GroupKind.allCases
        case .viewer where p.regions.isEmpty && !p.limitedToPartner: return GroupKind.allCases
        case .coordinator, .viewer: return [.regions]
        case .advisor: return []
        }
    }

    static func visibleGroups(_ groups: [GroupResult], kind: GroupKind, to p: Principal) -> [GroupResult] {
        guard kind == .regions, !visibleGroupKinds(p).contains(.national) else { return groups }
        return groups.filter { p.regions.contains($0.key) }
    }

    static let sheetNames: [GroupKind: String] = [
        .national: "Nacional", .regions: "Regiones", .departments: "Departamentos", .advisors: "Asesores",
        .partners: "Aliados", .entityTypes: "Tipos de entidad",
    ]

    /// Writes the export: for a workbook the Ficha, one sheet per visible group kind and the entities;
    /// for a CSV only the entities.
    func write(_ sink: TableSink, pool: ConnectionPool) throws {
        try pool.withConnection { conn in
            var entities: [CutStore.ExportRow] = []
            try CutStore.exportRows(conn, cut: cut.id, phaseCodes: catalog.phases.map(\.code),
                                    milestoneCodes: catalog.milestones.map(\.code)) { row in
                if CutRoutes.visible(row.entity, to: caller) { entities.append(row) }
            }
            if sink.keepsEverySheet {
                try ficha(sink, entityCount: entities.count, takenBy: cut.createdBy.flatMap { try? CutStore.personName(conn, id: $0) })
                var headline: [(kind: GroupKind, group: GroupDTO)] = []
                for kind in CutExport.visibleGroupKinds(caller) {
                    let groups = CutExport.visibleGroups(try CutStore.groups(conn, cut: cut.id, kind: kind, catalog: catalog,
                                                                             shares: kind == .national || kind == .regions),
                                                         kind: kind, to: caller)
                    let dtos = try ProgressRoutes.groupDTOs(conn, groups, catalog: catalog)
                    try CutExport.groupSheet(sink, name: CutExport.sheetNames[kind], groups: dtos, catalog: catalog)
                    if kind == .national || kind == .regions { headline += dtos.map { (kind, $0) } }
                }
                try setSheets(sink, conn: conn)
                try milestoneSheets(sink, headline)
            }
            try entitySheet(sink, entities)
        }
    }

    /// One sheet per group set (conjunto de agrupación) the cut froze, named by the set's name as frozen, in set
    /// code order, with the columns of the other group sheets. Only for readers who see the whole country (as
    /// `/v1/cuts/{id}/group-sets/{set}`): a set's group figures include entities outside any narrower scope.
    private func setSheets(_ sink: TableSink, conn: Connection) throws {
        guard CutExport.visibleGroupKinds(caller).contains(.national) else { return }
        for set in try GroupSetStore.frozenSets(conn, cut: cut.id) {
            let groups = try GroupSetStore.frozenGroups(conn, cut: cut.id, set: set.code)?.groups ?? []
            try CutExport.groupSheet(sink, name: set.name, groups: try ProgressRoutes.groupDTOs(conn, groups, catalog: catalog),
                                     catalog: catalog)
        }
    }

    /// Milestone shares (porcentaje de entidades que cumplieron cada hito, item 4) of the nation and each region
    /// the reader sees, from the cut's frozen statuses: one row per group and milestone, in plan order; and, for
    /// plans with stages (momentos), a `Momentos` sheet. Advisors (no group visible) get the headers only.
    private func milestoneSheets(_ sink: TableSink, _ groups: [(kind: GroupKind, group: GroupDTO)]) throws {
        let milestones = catalog.milestones.sorted { $0.position < $1.position }
        try sink.sheet("Hitos", header: ["group", "key", "name", "phase_code", "code", "milestone", "completed_share"])
        for (kind, g) in groups {
            let shares = Dictionary(g.milestoneCompletion.map { ($0.milestoneCode, $0.completedShare) }, uniquingKeysWith: { a, _ in a })
            for m in milestones {
                try sink.row([.text(kind.rawValue), .text(g.key), .text(g.name), .text(m.phaseCode), .text(m.code), .text(m.name),
                              .figure(shares[m.code])])
            }
        }
        guard !catalog.stages.isEmpty else { return }
        try sink.sheet("Momentos", header: ["group", "key", "name", "code", "stage", "mean_progress", "completed_share"])
        for (kind, g) in groups {
            for s in g.stages {
                try sink.row([.text(kind.rawValue), .text(g.key), .text(g.name), .text(s.code), .text(s.name),
                              .figure(s.meanProgress), .figure(s.completedShare)])
            }
        }
    }

    private func ficha(_ sink: TableSink, entityCount: Int, takenBy: String?) throws {
        try sink.sheet("Ficha", header: ["campo", "valor"])
        let taken = ISO8601DateFormatter().string(from: cut.createdAt)
        try sink.row([.text("Corte"), .id(cut.id)])
        try sink.row([.text("Plan"), .text(cut.plan)])
        try sink.row([.text("Nombre del plan"), .text(catalog.name)])
        try sink.row([.text("Periodo"), .text(cut.period.description)])
        try sink.row([.text("Etiqueta"), .text(cut.label)])
        try sink.row([.text("Versión del catálogo"), .integer(cut.catalogVersion)])
        try sink.row([.text("Tomado el"), .text(taken)])
        try sink.row([.text("Tomado por"), .text(takenBy ?? cut.createdBy.map { "persona \($0)" })])
        try sink.row([.text("Entidades"), .integer(entityCount)])
    }

    /// Group results with fixed columns (the same for every row): the lowest and highest entities are one
    /// cell listing their codes (at most ten; the counts say how many), never one column per entity.
    /// `kinds`, when given, is each group's kind (first column `group`), for a table of several kinds.
    static func groupSheet(_ sink: TableSink, name: String?, groups: [GroupDTO], kinds: [String]? = nil,
                           catalog: PlanCatalog) throws {
        try sink.sheet(name, header: (kinds == nil ? [] : ["group"])
                       + ["key", "name"] + GroupFiguresDTO.columns + ["lowest_count", "lowest", "highest_count", "highest"]
                       + catalog.phases.map { "completed_share_\($0.code)" })
        for (i, g) in groups.enumerated() {
            let shares = Dictionary(uniqueKeysWithValues: g.phaseCompletion.map { ($0.phaseCode, $0.completedShare) })
            try sink.row((kinds.map { [.text($0[i])] } ?? [])
                         + [.text(g.key), .text(g.name)] + g.figures.cells
                         + [.integer(g.lowestCount), .text(g.lowest.map(\.code).joined(separator: " ")),
                            .integer(g.highestCount), .text(g.highest.map(\.code).joined(separator: " "))]
                         + catalog.phases.map { .figure(shares[$0.code]) })
        }
    }

    private func entitySheet(_ sink: TableSink, _ rows: [CutStore.ExportRow]) throws {
        if legacyColumns {
            try sink.sheet("Entidades", header: ["dane_code", "name", "type", "department", "region", "advisor", "partner"]
                           + catalog.phases.map { "\($0.code) \($0.name)" } + ["total"])
            for row in rows {
                let e = row.entity
                try sink.row([.text(e.code), .text(e.name), .text(e.type), .text(e.departmentName), .text(e.regionName),
                              .text(e.advisorName), .text(e.partnerCode)]
                             + row.phases.map { .figure($0) } + [.figure(e.total)])
            }
            return
        }
        // The full layout: codes next to names (DANE codes as text), each phase and milestone under the plan's own
        // code (`F1`, `H9`), the total, every milestone's status (estado del hito) as of the cut, in plan order, and
        // the frozen schedule last (expected, lag, the overdue milestones' codes), so earlier columns keep their place.
        try sink.sheet("Entidades", header: ["dane_code", "name", "type", "department_code", "department", "region_code", "region",
                                             "advisor_id", "advisor", "partner"]
                       + catalog.phases.map(\.code) + ["total"] + catalog.milestones.map(\.code) + ["expected", "lag", "overdue"])
        for row in rows {
            let e = row.entity
            try sink.row([.text(e.code), .text(e.name), .text(e.type), .text(e.departmentCode), .text(e.departmentName),
                          .text(e.regionCode), .text(e.regionName), .id(e.advisorId), .text(e.advisorName), .text(e.partnerCode)]
                         + row.phases.map { .figure($0) } + [.figure(e.total)]
                         + row.milestones.map { .text($0) }
                         + [.figure(row.expected), .figure(row.lag), .text(row.overdue.joined(separator: " "))])
        }
    }
}
