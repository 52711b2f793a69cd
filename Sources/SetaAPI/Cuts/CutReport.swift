// The cut report (informe del corte, issue 12 item 6): the quarterly report's tables from a cut's frozen figures,
// with the change against the previous cut of the plan, as JSON and as a workbook.
import Foundation
import SetaDatabase
import SetaDomain
import SetaFormats

/// A group's line in the report: its frozen figures and the change of its mean against the previous cut.
struct ReportGroupDTO: Encodable, Sendable {
    var group: String
    var key: String
    var name: String
    var figures: GroupFiguresDTO
    /// The same group's mean in the previous cut; null when there is no previous cut or the group was not in it.
    var previousMeanProgress: Decimal?
    var change: Decimal?

    enum CodingKeys: String, CodingKey { case group, key, name, previousMeanProgress, change }

    /// The figures go flat beside the line's own keys.
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(group, forKey: .group)
        try c.encode(key, forKey: .key)
        try c.encode(name, forKey: .name)
        try figures.encode(to: encoder)
        try c.encodeIfPresent(previousMeanProgress, forKey: .previousMeanProgress)
        try c.encodeIfPresent(change, forKey: .change)
    }
}

/// A phase's or milestone's completion share (porcentaje de entidades que cumplieron) in the report.
struct ReportShareDTO: Codable, Sendable {
    var code: String
    var name: String
    /// The phase of a milestone; the stage (momento) of a phase, when the plan has stages.
    var parentCode: String?
    var completedShare: Decimal?
    var previousCompletedShare: Decimal?
    var change: Decimal?
}

struct ReportStageDTO: Codable, Sendable {
    var code: String
    var name: String
    var meanProgress: Decimal?
    var completedShare: Decimal?
    var previousMeanProgress: Decimal?
    var previousCompletedShare: Decimal?
    var change: Decimal?
}

/// Completion per phase, stage and milestone of one headline group: the nation, or for a reader who does not see
/// it, each of their regions.
struct ReportCompletionDTO: Codable, Sendable {
    var group: String
    var key: String
    var name: String
    var entityCount: Int
    var phases: [ReportShareDTO]
    var stages: [ReportStageDTO]
    var milestones: [ReportShareDTO]
}

struct ReportEntityDTO: Codable, Sendable {
    var rank: Int
    var code: String
    var name: String
    var type: String
    var departmentCode: String
    var department: String
    var total: Decimal?
    var previousTotal: Decimal?
    var change: Decimal?
}

struct ReportLaggingDTO: Codable, Sendable {
    var regionCode: String?
    var region: String?
    var entities: [ReportEntityDTO]
}

struct CutReportDTO: Encodable, Sendable {
    var cut: CutDTO
    var planName: String
    var takenBy: String?
    /// Entities of the cut the reader may see.
    var entityCount: Int
    /// The previous cut of the plan (latest earlier period); null when there is none, and then every
    /// `previous_*` and `change` is null.
    var previousCut: CutDTO?
    var national: ReportGroupDTO?
    var regions: [ReportGroupDTO]
    var partners: [ReportGroupDTO]
    var completion: [ReportCompletionDTO]
    /// How many of the most lagging entities (más rezagadas) each region lists (`lagging`).
    var laggingLimit: Int
    var lagging: [ReportLaggingDTO]
    /// Where each table's figures come from: the routes that show the same frozen figures of this cut.
    var sources: [String: String]
}

/// Builds the report of a cut from its frozen rows only (never live data): groups as frozen in `cut_groups`,
/// milestone shares and stages from the frozen statuses, the lagging entities from `cut_entities`.
enum CutReport {
    static func build(_ conn: Connection, cut: CutStore.CutRow, catalog: PlanCatalog, caller: Principal,
                      lagging limit: Int) throws -> CutReportDTO {
        let previous = try CutStore.previousCut(conn, of: cut)
        let previousCatalog = try previous.flatMap { try CatalogStore.catalog(conn, code: $0.plan, version: $0.catalogVersion) }
        let kinds = CutExport.visibleGroupKinds(caller)
        let seesNation = kinds.contains(.national)

        func frozen(_ c: CutStore.CutRow?, _ cat: PlanCatalog?, _ kind: GroupKind, shares: Bool) throws -> [GroupResult] {
            guard let c, let cat, kinds.contains(kind) else { return [] }
            return CutExport.visibleGroups(try CutStore.groups(conn, cut: c.id, kind: kind, catalog: cat, shares: shares),
                                           kind: kind, to: caller)
        }
        // The headline groups carry the shares: the nation, or a restricted reader's regions.
        let national = try frozen(cut, catalog, .national, shares: true)
        let regions = try frozen(cut, catalog, .regions, shares: !seesNation)
        let partners = try frozen(cut, catalog, .partners, shares: false)
        let prevNational = try frozen(previous, previousCatalog, .national, shares: true)
        let prevRegions = try frozen(previous, previousCatalog, .regions, shares: !seesNation)
        let prevPartners = try frozen(previous, previousCatalog, .partners, shares: false)

        let (lagging, visibleCount) = try CutStore.lagging(conn, cut: cut.id, previous: previous?.id, principal: caller, limit: limit)
        let takenBy = try cut.createdBy.flatMap { try CutStore.personName(conn, id: $0) }

        let headline = seesNation ? national : regions
        let prevHeadline = Dictionary((seesNation ? prevNational : prevRegions).map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var sources = [
            "cut": "/v1/cuts/\(cut.id)",
            "entities": "/v1/cuts/\(cut.id)/export",
            "lagging": "/v1/cuts/\(cut.id)/export",
        ]
        for kind in kinds where [.national, .regions, .partners].contains(kind) {
            sources[kind.rawValue] = "/v1/cuts/\(cut.id)/groups/\(kind.rawValue)"
        }
        sources["completion"] = "/v1/cuts/\(cut.id)/groups/\(seesNation ? "national" : "regions")"
        if let previous { sources["previous_cut"] = "/v1/cuts/\(previous.id)" }

        return CutReportDTO(
            cut: CutRoutes.dto(cut), planName: catalog.name, takenBy: takenBy, entityCount: visibleCount,
            previousCut: previous.map { CutRoutes.dto($0) },
            national: national.first.map { groupLine($0, kind: .national, previous: prevNational.first) },
            regions: lines(regions, kind: .regions, previous: prevRegions),
            partners: lines(partners, kind: .partners, previous: prevPartners),
            completion: headline.map { completion($0, kind: seesNation ? .national : .regions, catalog: catalog,
                                                  previous: prevHeadline[$0.key]) },
            laggingLimit: limit,
            lagging: laggingTables(lagging),
            sources: sources)
    }

    static func change(_ now: Decimal?, _ before: Decimal?) -> Decimal? {
        guard let now, let before else { return nil }
        return (now - before).out
    }

    static func groupLine(_ g: GroupResult, kind: GroupKind, previous: GroupResult?) -> ReportGroupDTO {
        let s = g.summary
        return ReportGroupDTO(group: kind.rawValue, key: g.key, name: g.name, figures: GroupFiguresDTO(s),
                              previousMeanProgress: previous?.summary.meanProgress?.out,
                              change: change(s.meanProgress, previous?.summary.meanProgress))
    }

    static func lines(_ groups: [GroupResult], kind: GroupKind, previous: [GroupResult]) -> [ReportGroupDTO] {
        let before = Dictionary(previous.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        return groups.map { groupLine($0, kind: kind, previous: before[$0.key]) }
    }

    static func completion(_ g: GroupResult, kind: GroupKind, catalog: PlanCatalog, previous: GroupResult?) -> ReportCompletionDTO {
        let phaseShares = g.summary.phaseCompletionShare
        let prevPhases = previous?.summary.phaseCompletionShare ?? [:]
        let milestoneShares = Dictionary(g.milestoneShares.map { ($0.code, $0.share) }, uniquingKeysWith: { a, _ in a })
        let prevMilestones = Dictionary((previous?.milestoneShares ?? []).map { ($0.code, $0.share) }, uniquingKeysWith: { a, _ in a })
        let prevStages = Dictionary((previous?.stages ?? []).map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
        return ReportCompletionDTO(
            group: kind.rawValue, key: g.key, name: g.name, entityCount: g.summary.entityCount,
            phases: catalog.phases.sorted { $0.position < $1.position }.map { p in
                ReportShareDTO(code: p.code, name: p.name, parentCode: p.stageCode, completedShare: phaseShares[p.code]?.out,
                               previousCompletedShare: prevPhases[p.code]?.out, change: change(phaseShares[p.code], prevPhases[p.code]))
            },
            stages: g.stages.map { s in
                let before = prevStages[s.code]
                return ReportStageDTO(code: s.code, name: catalog.stage(code: s.code)?.name ?? s.code, meanProgress: s.mean?.out,
                                      completedShare: s.completedShare?.out, previousMeanProgress: before?.mean?.out,
                                      previousCompletedShare: before?.completedShare?.out, change: change(s.mean, before?.mean))
            },
            milestones: catalog.milestones.sorted { $0.position < $1.position }.map { m in
                ReportShareDTO(code: m.code, name: m.name, parentCode: m.phaseCode, completedShare: milestoneShares[m.code]?.out,
                               previousCompletedShare: prevMilestones[m.code]?.out,
                               change: change(milestoneShares[m.code], prevMilestones[m.code]))
            })
    }

    static func laggingTables(_ rows: [CutStore.LaggingEntity]) -> [ReportLaggingDTO] {
        var out: [ReportLaggingDTO] = []
        for e in rows {
            let dto = ReportEntityDTO(rank: e.rank, code: e.code, name: e.name, type: e.type, departmentCode: e.departmentCode,
                                      department: e.departmentName, total: e.total?.out, previousTotal: e.previousTotal?.out,
                                      change: change(e.total, e.previousTotal))
            if let last = out.last, last.regionCode == e.regionCode {
                out[out.count - 1].entities.append(dto)
            } else {
                out.append(ReportLaggingDTO(regionCode: e.regionCode, region: e.regionName, entities: [dto]))
            }
        }
        return out
    }

    // MARK: the workbook

    /// The report as sheets: Ficha, Nacional, Regiones, Aliados, Fases, Momentos (plans with stages), Hitos,
    /// Rezagadas. Every row names its group (kind and key) or entity (DANE code); the Ficha names the cut and the
    /// previous one. A CSV (one sheet) gets the group table: national, regions and partners.
    static func write(_ sink: TableSink, _ r: CutReportDTO) throws {
        let groupHeader = ["group", "key", "name"] + GroupFiguresDTO.columns + ["previous_mean_progress", "change"]
        func groupRows(_ groups: [ReportGroupDTO]) throws {
            for g in groups {
                try sink.row([.text(g.group), .text(g.key), .text(g.name)] + g.figures.cells
                             + [.figure(g.previousMeanProgress), .figure(g.change)])
            }
        }
        guard sink.keepsEverySheet else {
            try sink.sheet("Grupos", header: groupHeader)
            try groupRows((r.national.map { [$0] } ?? []) + r.regions + r.partners)
            return
        }
        try sink.sheet("Ficha", header: ["campo", "valor"])
        try sink.row([.text("Corte"), .id(r.cut.id)])
        try sink.row([.text("Plan"), .text(r.cut.plan)])
        try sink.row([.text("Nombre del plan"), .text(r.planName)])
        try sink.row([.text("Periodo"), .text(r.cut.period)])
        try sink.row([.text("Etiqueta"), .text(r.cut.label)])
        try sink.row([.text("Versión del catálogo"), .integer(r.cut.catalogVersion)])
        try sink.row([.text("Tomado el"), .text(ISO8601DateFormatter().string(from: r.cut.createdAt))])
        try sink.row([.text("Tomado por"), .text(r.takenBy ?? r.cut.createdBy.map { "persona \($0)" })])
        try sink.row([.text("Entidades"), .integer(r.entityCount)])
        try sink.row([.text("Corte anterior"), .id(r.previousCut?.id)])
        try sink.row([.text("Periodo del corte anterior"), .text(r.previousCut?.period)])
        try sink.row([.text("Etiqueta del corte anterior"), .text(r.previousCut?.label)])
        try sink.row([.text("Rezagadas por región"), .integer(r.laggingLimit)])
        if let n = r.national {
            try sink.sheet("Nacional", header: groupHeader)
            try groupRows([n])
        }
        // Always present (maybe empty), so a reader finds the same sheets in every report of a plan.
        try sink.sheet("Regiones", header: groupHeader)
        try groupRows(r.regions)
        try sink.sheet("Aliados", header: groupHeader)
        try groupRows(r.partners)
        let shareHeader = ["group", "key", "parent_code", "code", "name", "completed_share", "previous_completed_share", "change"]
        try sink.sheet("Fases", header: shareHeader)
        for c in r.completion {
            for p in c.phases {
                try sink.row([.text(c.group), .text(c.key), .text(p.parentCode), .text(p.code), .text(p.name),
                              .figure(p.completedShare), .figure(p.previousCompletedShare), .figure(p.change)])
            }
        }
        if r.completion.contains(where: { !$0.stages.isEmpty }) {
            try sink.sheet("Momentos", header: ["group", "key", "code", "name", "mean_progress", "completed_share",
                                                "previous_mean_progress", "previous_completed_share", "change"])
            for c in r.completion {
                for s in c.stages {
                    try sink.row([.text(c.group), .text(c.key), .text(s.code), .text(s.name), .figure(s.meanProgress),
                                  .figure(s.completedShare), .figure(s.previousMeanProgress), .figure(s.previousCompletedShare),
                                  .figure(s.change)])
                }
            }
        }
        try sink.sheet("Hitos", header: shareHeader)
        for c in r.completion {
            for m in c.milestones {
                try sink.row([.text(c.group), .text(c.key), .text(m.parentCode), .text(m.code), .text(m.name),
                              .figure(m.completedShare), .figure(m.previousCompletedShare), .figure(m.change)])
            }
        }
        try sink.sheet("Rezagadas", header: ["region_code", "region", "rank", "dane_code", "name", "type", "department_code",
                                             "department", "total", "previous_total", "change"])
        for region in r.lagging {
            for e in region.entities {
                try sink.row([.text(region.regionCode), .text(region.region), .integer(e.rank), .text(e.code), .text(e.name),
                              .text(e.type), .text(e.departmentCode), .text(e.department), .figure(e.total),
                              .figure(e.previousTotal), .figure(e.change)])
            }
        }
    }
}
