// Loads what the service ships with (Data/): the 2020 catalog, DIVIPOLA entities, default regions, partners.
import Foundation
import SetaDatabase
import SetaDomain

public enum Seeder {
    public struct Summary: Sendable, Equatable {
        public var plansCreated = 0
        public var entitiesCreated = 0
        public var regionsCreated = 0
        public var partnersCreated = 0
    }

    public static let catalogFile = "catalog-gobierno-al-plan-2020.csv"
    public static let divipolaFile = "divipola-municipios.csv"
    public static let faseIIListFile = "gobierno-al-plan-fase2-2020-municipios.csv"
    /// Which 2020 milestones may be "no aplica" and their legal due dates (provenance in Data/README.md).
    public static let scheduleFile = "schedule-gobierno-al-plan-2020.csv"
    /// The 2020 strategy ran through the calendar year; due dates must fall inside.
    static let span2020 = PlanSpan(from: Period("2020-01")!, to: Period("2020-12")!)

    /// Where the shipped data lives: `SETA_REFERENCE_DATA`, `./Data`, or `Data/` beside or above the executable.
    public static func dataDirectory() -> URL? {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["SETA_REFERENCE_DATA"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        let cwd = URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent("Data")
        if fm.fileExists(atPath: cwd.appendingPathComponent(divipolaFile).path) { return cwd }
        guard var dir = Migrator.executableURL()?.deletingLastPathComponent() else { return nil }
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("Data")
            if fm.fileExists(atPath: candidate.appendingPathComponent(divipolaFile).path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    /// Idempotent: what exists already is left as it is (the central team may have corrected it).
    public static func seed(_ pool: ConnectionPool, dataDirectory: URL) throws -> Summary {
        let catalogText = try String(contentsOf: dataDirectory.appendingPathComponent(catalogFile), encoding: .utf8)
        let divipolaText = try String(contentsOf: dataDirectory.appendingPathComponent(divipolaFile), encoding: .utf8)
        var plans = try CatalogCSV.parse(catalogText)
        let scheduleURL = dataDirectory.appendingPathComponent(scheduleFile)
        if FileManager.default.fileExists(atPath: scheduleURL.path) {
            let schedule = try CSVReader.table(try String(contentsOf: scheduleURL, encoding: .utf8),
                                               expectedHeader: ["plan_code", "milestone_code", "not_applicable_allowed", "due_on", "source"])
            plans = try applySchedule(plans, schedule.records.map(\.fields))
        }
        let divipola = try CSVReader.table(divipolaText, expectedHeader: ["dane_code", "municipality", "department_code", "department", "pnd_region"])

        return try pool.withTransaction { conn in
            // One seeder at a time (two instances starting together).
            try conn.execute("SELECT pg_advisory_xact_lock(\(LockKey.seeder)::int8)")
            var summary = Summary()
            for plan in plans where try CatalogStore.plan(conn, code: plan.code) == nil {
                if let v = CatalogValidator.validate(plan).first {
                    throw APIError.invalid(field: v.field, "Catálogo de datos inválido: \(v.message)")
                }
                try CatalogStore.create(conn, plan, onTimeDay: 10, by: nil)
                if plan.code.hasPrefix("gap-2020-") { try CatalogStore.setSpan(conn, plan: plan.code, span: span2020) }
                summary.plansCreated += 1
            }

            var departments: [String: String] = [:]
            var regionOfDepartment: [String: String] = [:]
            var codes: [String] = [], names: [String] = [], types: [String] = [], deps: [String] = [], keys: [String] = []
            for r in divipola.records {
                let f = r.fields
                departments[f[2]] = f[3]
                regionOfDepartment[f[2]] = f[4]
                codes.append(f[0]); names.append(f[1]); deps.append(f[2])
                types.append(entityType(code: f[0], departmentCode: f[2]))
                keys.append(NameNormalizer.searchKey(f[1]))
            }
            // One gobernación per department; Bogotá D.C. is a district, not a department government.
            for (code, name) in departments.sorted(by: { $0.key < $1.key }) where code != "11" {
                codes.append(code); names.append("Gobernación de \(name)"); deps.append(code); types.append("department")
                keys.append(NameNormalizer.searchKey("Gobernación de \(name) \(name)"))
            }
            let regionNames = Array(Set(regionOfDepartment.values)).sorted()
            summary.regionsCreated = try conn.execute("""
                INSERT INTO regions (code, name)
                SELECT r.code, r.name FROM unnest(\(regionNames.map(regionCode))::text[], \(regionNames)::text[]) AS r(code, name)
                ON CONFLICT DO NOTHING
                """)
            let depCodes = departments.keys.sorted()
            try conn.execute("""
                INSERT INTO departments (code, name)
                SELECT d.code, d.name FROM unnest(\(depCodes)::text[], \(depCodes.map { departments[$0]! })::text[]) AS d(code, name)
                ON CONFLICT DO NOTHING
                """)
            try conn.execute("""
                INSERT INTO department_regions (department_code, region_code, valid_from)
                SELECT d.code, d.region, DATE '1900-01-01'
                  FROM unnest(\(depCodes)::text[], \(depCodes.map { regionCode(regionOfDepartment[$0]!) })::text[]) AS d(code, region)
                 WHERE NOT EXISTS (SELECT 1 FROM department_regions x WHERE x.department_code = d.code)
                """)
            summary.entitiesCreated = try conn.execute("""
                INSERT INTO entities (code, name, type, department_code, search_key)
                SELECT * FROM unnest(\(codes)::text[], \(names)::text[], \(types)::text[], \(deps)::text[], \(keys)::text[])
                ON CONFLICT DO NOTHING
                """)
            // The PND regionalization also ships as a group set, so other regionalizations can sit beside it (issue 15).
            if summary.entitiesCreated > 0 { try GroupSetStore.seedPNDRegions(conn) }
            summary.partnersCreated = try conn.execute("""
                INSERT INTO partners (code, name) VALUES
                  ('DNP', 'Departamento Nacional de Planeación'),
                  ('DAFP', 'Departamento Administrativo de la Función Pública'),
                  ('ART', 'Agencia de Renovación del Territorio')
                ON CONFLICT DO NOTHING
                """)
            return summary
        }
    }

    /// Writes the schedule file's rules into the catalog's milestones; an unknown milestone or date is an error.
    static func applySchedule(_ plans: [PlanCatalog], _ rows: [[String]]) throws -> [PlanCatalog] {
        var out = plans
        for f in rows {
            guard let p = out.firstIndex(where: { $0.code == f[0] }),
                  let m = out[p].milestones.firstIndex(where: { $0.code == f[1] }) else {
                throw APIError.invalid(field: scheduleFile, "Hito desconocido en el calendario: \(f[0]) \(f[1]).")
            }
            out[p].milestones[m].notApplicableAllowed = f[2] == "true"
            if !f[3].isEmpty {
                guard let day = CalendarDay(f[3]) else {
                    throw APIError.invalid(field: scheduleFile, "Fecha inválida en el calendario: \(f[3]).")
                }
                out[p].milestones[m].dueOn = day
            }
        }
        return out
    }

    /// DANE: Bogotá is a district; in Amazonas, Guainía and Vaupés the units that are not the listed
    /// municipalities are áreas no municipalizadas.
    static func entityType(code: String, departmentCode: String) -> String {
        if code == "11001" { return "district" }
        let municipalitiesOfANMDepartments: Set<String> = ["91001", "91540", "94001", "97001", "97161", "97666"]
        if ["91", "94", "97"].contains(departmentCode) && !municipalitiesOfANMDepartments.contains(code) {
            return "non_municipalised_area"
        }
        return "municipality"
    }

    /// "Región Eje Cafetero - Antioquia" → "eje-cafetero-antioquia".
    static func regionCode(_ name: String) -> String {
        var key = NameNormalizer.searchKey(name)
        if key.hasPrefix("region ") { key.removeFirst("region ".count) }
        let slug = key.map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
        return slug.split(separator: "-").joined(separator: "-")
    }
}
