// `GET /v1/cuts/{id}/groups/set:<code>`: the groups of a group set as a cut froze them, in the roll-ups' shape.
import Foundation
import SetaDatabase
import SetaDomain

enum CutSetGroups {
    /// Whether `{group}` of `/v1/cuts/{id}/groups/{group}` names a group set (`set:<conjunto>`), answered here.
    static func handles(_ ctx: RequestContext) -> Bool {
        if case .set? = Grouping(path: ctx.param("group")) { return true }
        return false
    }

    /// The frozen groups of one set, like the six frozen kinds: the same answer as `/v1/progress/set:<code>` had
    /// when the cut was taken. Readers who see the whole country only (as `/v1/cuts/{id}/group-sets/{set}`); a set
    /// the cut did not freeze is 404 naming it.
    static func groups(_ ctx: RequestContext) throws -> APIResponse {
        try GroupSetRoutes.requireWholeCountry(ctx)
        guard case .set(let code)? = Grouping(path: ctx.param("group")) else {
            throw APIError.notFound("Grupo desconocido «\(ctx.param("group"))».")
        }
        let (cut, catalog, items) = try ctx.db.withConnection { conn -> (CutStore.CutRow, PlanCatalog, [GroupDTO]) in
            let cut = try CutStore.requireCut(conn, id: ctx.param("id"))
            guard let frozen = try GroupSetStore.frozenGroups(conn, cut: cut.id, set: code) else {
                throw APIError(status: 404, detail: "El corte \(cut.id) no congeló el conjunto «\(code)» (no existía cuando se tomó).",
                               errors: [FieldError(field: "group", message: "Conjunto no congelado en este corte.", found: code)])
            }
            let catalog = try ProgressStore.catalogOf(conn, plan: cut.plan, version: cut.catalogVersion)
            return (cut, catalog, try ProgressRoutes.groupDTOs(conn, frozen.groups, catalog: catalog))
        }
        let group = Grouping.set(code).name
        if ctx.wantsTable {
            return .table(filename: "corte-\(cut.id)-\(code)") { sink in
                try CutExport.groupSheet(sink, name: "Grupos", groups: items, kinds: Array(repeating: group, count: items.count),
                                         catalog: catalog)
            }
        }
        return try .json(GroupsResponseDTO(plan: cut.plan, catalogVersion: cut.catalogVersion, asOf: cut.period.description,
                                           group: group, items: items))
    }
}
