// `cut={id}` on the progress routes (issue 12 item 5): the live answers' shapes, read from a cut's frozen rows.
import Foundation
import SetaDatabase
import SetaDomain

/// The progress routes hand a request here when it names a cut: the figures are the cut's frozen ones (entities,
/// statuses, groups as of the cut's month, its catalog version), the reader's scope and filters apply to the frozen
/// columns, and the answer has the shape of the live one with `as_of` the cut's period.
enum FrozenProgressRoutes {
    /// The caller as this request verified it. Progress routes may start from a principal remembered from an
    /// earlier request, which their one guarded statement re-checks; a cut read has no such statement, so it
    /// looks the token up again (a revoked token fails here, at once).
    static func verifiedCaller(_ ctx: RequestContext) throws -> Principal {
        if ctx.principalFromHint != nil {
            ctx.principalFromHint = nil
            ctx.principal = try Auth.authenticate(ctx)
        }
        return try ctx.caller
    }

    /// The cut named by `cut` (404 naming `cut` when unknown) and its catalog version. `plan`, when given, must be
    /// the cut's plan and `as_of` the cut's month (422 naming them otherwise): a cut answers for one month only.
    static func cut(_ ctx: RequestContext, _ conn: Connection) throws -> (CutStore.CutRow, PlanCatalog) {
        let cut = try CutStore.requireCut(conn, id: ctx.requiredQuery("cut"), field: "cut")
        if let plan = try ctx.query("plan"), plan != cut.plan {
            throw APIError.invalid(field: "plan", "El corte \(cut.id) es del plan \(cut.plan), no de «\(plan)».", found: plan)
        }
        if let asOf = try ctx.query("as_of"), asOf != cut.period.description {
            throw APIError.invalid(field: "as_of", "El corte \(cut.id) es de \(cut.period); omita `as_of` o use ese mes.", found: asOf)
        }
        return (cut, try CutStore.catalog(conn, of: cut))
    }

    /// `GET /v1/progress/{group}?cut=`: the group roll-up over the cut's frozen entities the reader may see.
    static func groups(_ ctx: RequestContext, kind: GroupKind) throws -> APIResponse {
        let caller = try verifiedCaller(ctx)
        let filter = try ProgressRoutes.filter(ctx)
        try refuseLiveOnlyFilters(filter)
        let (cut, catalog, items) = try ctx.db.withConnection { conn -> (CutStore.CutRow, PlanCatalog, [GroupDTO]) in
            let (cut, catalog) = try self.cut(ctx, conn)
            let groups = try CutStore.scopedGroups(conn, cut: cut.id, kind: kind, catalog: catalog, principal: caller, filter: filter)
            return (cut, catalog, try ProgressRoutes.groupDTOs(conn, groups, catalog: catalog))
        }
        if ctx.wantsTable {
            // The live table's columns.
            return .table(filename: "progreso-\(kind.rawValue)-corte-\(cut.id)") { sink in
                try sink.header(GroupDTO.summaryColumns + GroupDTO.phaseShareColumns(catalog))
                for g in items { try sink.row(g.summaryCells + g.phaseShareCells(catalog)) }
            }
        }
        return try .json(GroupsResponseDTO(plan: cut.plan, catalogVersion: cut.catalogVersion, asOf: cut.period.description,
                                           group: kind.rawValue, items: items))
    }

    /// `GET /v1/progress/entities?cut=`: the cut's frozen entities the reader may see, as the live table.
    static func entityTable(_ ctx: RequestContext) throws -> APIResponse {
        let caller = try verifiedCaller(ctx)
        let filter = try ProgressRoutes.filter(ctx)
        try refuseLiveOnlyFilters(filter)
        let (sort, descending, limit, offset) = try ProgressRoutes.tablePage(ctx)
        let (cut, catalog, page) = try ctx.db.withConnection { conn in
            let (cut, catalog) = try self.cut(ctx, conn)
            let page = try CutStore.entityPage(conn, cut: cut.id, principal: caller, filter: filter, sort: sort,
                                               descending: descending, limit: limit, offset: offset)
            return (cut, catalog, page)
        }
        let rows = page.rows.map { ProgressRoutes.tableRow($0, catalog: catalog) }
        if ctx.wantsTable {
            // The live table's columns (frozen: no attributes, which a cut does not freeze; no oldest due date).
            return .table(filename: "entidades-\(catalog.code)-corte-\(cut.id)") { sink in
                try sink.header(["dane_code", "name", "type", "department_code", "region", "advisor", "partner"]
                             + catalog.phases.map(\.code) + ["total", "expected", "lag", "overdue_count", "overdue"])
                for r in rows {
                    try sink.row([.text(r.code), .text(r.name), .text(r.type), .text(r.departmentCode), .text(r.regionCode),
                                  .text(r.advisorName), .text(r.partnerCode)]
                                 + r.phases.map { .figure($0.progress) } + [.figure(r.total)]
                                 + [.figure(r.expected), .figure(r.lag), .integer(r.overdue.count),
                                    .text(r.overdue.joined(separator: " "))])
                }
            }
        }
        let next = offset + rows.count < page.total ? PageCursor.encode(offset: offset + rows.count) : nil
        return try .json(ListResponse(items: rows, total: page.total, nextCursor: next))
    }

    /// `GET /v1/entities/{code}/progress?cut=`: one entity as the cut froze it (its total, phases and every
    /// milestone's status; `reported_in` is not frozen, so null). An entity the cut does not hold is 404 naming `code`.
    static func entityProgress(_ ctx: RequestContext) throws -> APIResponse {
        let caller = try verifiedCaller(ctx)
        let code = ctx.param("code")
        let dto = try ctx.db.withConnection { conn -> EntityProgressDTO in
            let (cut, catalog) = try self.cut(ctx, conn)
            guard let e = try CutStore.frozenEntity(conn, cut: cut.id, entity: code, principal: caller) else {
                throw ProgressRoutes.unknownEntity(code)
            }
            guard e.inCut else {
                throw APIError(status: 404, title: "Not Found", detail: "El corte \(cut.id) no incluye la entidad \(code).",
                               errors: [FieldError(field: "code", message: "Entidad fuera del corte.", found: code)])
            }
            guard e.visible else { throw APIError.forbidden("La entidad \(code) está fuera de su alcance.") }
            return EntityProgressDTO(
                entity: EntityRefDTO(code: e.code, name: e.name), plan: cut.plan, catalogVersion: cut.catalogVersion,
                asOf: cut.period.description, enrolled: true, total: e.total?.out,
                phases: ProgressRoutes.phaseDTOs(catalog, progress: e.phases, completed: e.completed),
                milestones: catalog.milestones.sorted { $0.position < $1.position }.map { m in
                    MilestoneStatusDTO(code: m.code, name: m.name, phaseCode: m.phaseCode,
                                       status: e.milestones[m.code] ?? "not_started", reportedIn: nil)
                })
        }
        return try .json(dto)
    }

    /// Set and attribute filters read today's memberships, which a cut did not freeze: refused rather than
    /// silently mixing live memberships into frozen figures.
    static func refuseLiveOnlyFilters(_ filter: ProgressFilter) throws {
        if filter.setGroup != nil {
            throw APIError.invalid(field: "set_group", "`set_group` no se combina con `cut`: el corte no congeló los conjuntos como filtro.")
        }
        if let attribute = filter.attributes.first {
            throw APIError.invalid(field: "attr.\(attribute.code)", "Los filtros `attr.` no se combinan con `cut`.")
        }
    }
}
