// Tests of EntityNameResolver: general rules on small cases, and the real Fase II list against DIVIPOLA.
import Foundation
import Testing
@testable import SetaDomain

enum DivipolaFiles {
    static func places() throws -> [Place] {
        let rows = try CSVReader.parse(
            try RepositoryData.text("divipola-municipios.csv"),
            expectedHeader: ["dane_code", "municipality", "department_code", "department", "pnd_region"])
        return rows.map { Place(code: $0[0], name: $0[1], departmentCode: $0[2], departmentName: $0[3]) }
    }

    static func faseIIList() throws -> [(name: String, department: String)] {
        try CSVReader.parse(
            try RepositoryData.text("gobierno-al-plan-fase2-2020-municipios.csv"),
            expectedHeader: ["municipio", "departamento"]
        ).map { (name: $0[0], department: $0[1]) }
    }

    /// Built once for all tests (Swift Testing makes a suite instance per test and per argument).
    static let divipolaResolver: EntityNameResolver? = try? EntityNameResolver(places: places())

    static func resolver() throws -> EntityNameResolver {
        try #require(divipolaResolver, "Data/divipola-municipios.csv could not be read")
    }

    /// The whole Fase II list resolved once.
    static let faseIIResolved: (list: [(name: String, department: String)], summary: NameResolutionSummary)? = {
        guard let resolver = divipolaResolver, let list = try? faseIIList() else { return nil }
        return (list, resolver.resolveList(list))
    }()
}

@Suite("Entity name resolver: the official Fase II list against DIVIPOLA")
struct FaseIIListResolutionTests {
    let places: [Place]
    let resolver: EntityNameResolver
    let list: [(name: String, department: String)]
    let summary: NameResolutionSummary

    init() throws {
        places = try DivipolaFiles.places()
        resolver = try DivipolaFiles.resolver()
        let resolved = try #require(DivipolaFiles.faseIIResolved)
        list = resolved.list
        summary = resolved.summary
    }

    @Test("The files hold 1,123 DIVIPOLA units and the 365 municipalities of Fase II")
    func fileSizes() {
        #expect(places.count == 1123)
        #expect(list.count == 365)
    }

    @Test("Every one of the 365 rows is resolved; none is left ambiguous or unresolved")
    func everyRowResolved() {
        #expect(summary.rows.count == 365)
        #expect(summary.resolved.count + summary.ambiguous.count + summary.unresolved.count == 365)
        for row in summary.ambiguous + summary.unresolved {
            Issue.record("not resolved: \(row.name) (\(row.department)): \(row.resolution)")
        }
        #expect(summary.resolved.count == 365)
    }

    @Test("No two rows resolve to the same place")
    func noPlaceTwice() {
        let codes = summary.resolved.compactMap(\.resolution.code)
        #expect(Set(codes).count == codes.count)
    }

    @Test("Every row resolves to a place of its own department")
    func sameDepartment() {
        let departmentOf = Dictionary(uniqueKeysWithValues: places.map { ($0.code, $0.departmentCode) })
        for row in summary.resolved {
            let code = row.resolution.code!
            #expect(resolver.resolveDepartment(row.department) == [departmentOf[code]!], "\(row.name)")
        }
    }

    @Test("Each of the list's 30 department spellings designates exactly one department")
    func departmentSpellings() {
        let spellings = Set(list.map(\.department))
        #expect(spellings.count == 30)
        for spelling in spellings {
            #expect(resolver.resolveDepartment(spelling).count == 1, "\(spelling)")
        }
    }

    @Test("The list's abbreviated, truncated and mangled names resolve to the right DANE codes",
          arguments: [
              ("S.MARTIN DE LOBA", "Bolivar", "13667"),          // San Martín de Loba
              ("SAN ANDRES D SOTAVEN", "Cordoba", "23670"),      // San Andrés Sotavento, cut at 20 characters
              ("CERRO S.ANTONIO", "Magdalena", "47161"),         // Cerro San Antonio
              ("SAN BERNARDO V.", "Cordoba", "23675"),           // San Bernardo del Viento
              ("VALLE DE S.JUAN", "Tolima", "73854"),            // Valle de San Juan
              ("SAN JOSE FRAGUA", "Caqueta", "18610"),           // San José del Fragua
              ("CASTILLA NUEVA", "Meta", "50150"),               // Castilla la Nueva
              ("VILLA VIEJA", "Huila", "41872"),                 // Villavieja
              ("VILLA HERMOSA", "Tolima", "73870"),              // Villahermosa
              ("EL PEÐOL", "Nariño", "52254"),                   // El Peñol, Ñ mangled as Ð
              ("COLON-GENOVA", "Nariño", "52203"),               // Colón (Génova)
              ("CUASPUD- CARLOSAMA", "Nariño", "52224"),         // Cuaspud (Carlosama)
              ("CALIMA-DARIEN", "Valle Del Cauca", "76126"),     // Calima (El Darién)
              ("TOLU", "Sucre", "70820"),                        // Santiago de Tolú, not Tolú Viejo
              ("SINCE", "Sucre", "70742"),                       // San Luis de Sincé, not Sincelejo
              ("EL TABLON", "Nariño", "52258"),                  // El Tablón de Gómez
              ("EL CARMEN", "Choco", "27245"),                   // El Carmen de Atrato, not Carmen del Darién
              ("EL CARMEN", "Santander", "68235"),               // El Carmen de Chucurí
              ("EL PEÑON", "Bolivar", "13268"),
              ("EL PENON", "Santander", "68250"),
              ("SAN PABLO DE BORBUR", "Boyaca", "15681"),
              ("SANTA ROSA", "Bolivar", "13683"),                // not Santa Rosa del Sur
              ("ALBANIA", "Guajira", "44035"),
              ("NARIÑO", "Nariño", "52480"),
              ("PUERTO NARINO", "Amazonas", "91540"),
          ])
    func trickyNames(name: String, department: String, code: String) {
        #expect(resolver.resolve(name: name, department: department).code == code)
    }
}

/// A few made-up places to exercise each rule alone.
private func resolver(_ names: [String], department: String = "Antioquia", departmentCode: String = "05") -> EntityNameResolver {
    EntityNameResolver(places: names.enumerated().map { index, name in
        Place(code: departmentCode + String(100 + index), name: name, departmentCode: departmentCode, departmentName: department)
    })
}

@Suite("Entity name resolver: rules")
struct EntityNameResolverRuleTests {
    @Test("An exact name is preferred to a longer name it begins")
    func exactBeforePrefix() {
        let r = resolver(["Santa Rosa del Sur", "Santa Rosa"])
        #expect(r.resolve(name: "SANTA ROSA", department: "Antioquia") == .resolved(code: "05101", how: "exact"))
    }

    @Test("Two places matching equally well make the name ambiguous, listing both")
    func equallyGoodIsAmbiguous() {
        let r = resolver(["San Pedro de Urabá", "San Pedro de los Milagros"])
        #expect(r.resolve(name: "SAN PEDRO", department: "Antioquia") == .ambiguous(candidates: ["05100", "05101"]))
        let saints = resolver(["San Marcos", "Santa Marcos"])
        #expect(saints.resolve(name: "S.MARCOS", department: "Antioquia") == .ambiguous(candidates: ["05100", "05101"]))
    }

    @Test("A name found nowhere in its department is unresolved, pointing at other departments")
    func unresolvedWithHint() {
        let r = EntityNameResolver(places: [
            Place(code: "05001", name: "Medellín", departmentCode: "05", departmentName: "Antioquia"),
            Place(code: "76001", name: "Cali", departmentCode: "76", departmentName: "Valle del Cauca"),
        ])
        guard case .unresolved(let reason, _) = r.resolve(name: "CALI", department: "Antioquia") else {
            Issue.record("expected unresolved"); return
        }
        #expect(reason.contains("76001"))
        guard case .unresolved = r.resolve(name: "MEDELLIN", department: "Atlantis") else {
            Issue.record("expected unresolved department"); return
        }
    }

    @Test("Alternative names in DIVIPOLA: after a saint's name, in parentheses, or around a hyphen")
    func alternativeNames() {
        let r = resolver(["San Andrés de Tumaco", "Santafé de Bogotá", "Cuaspud (Carlosama)", "Bolívar (Ant.)", "Colón - Génova"])
        #expect(r.resolve(name: "TUMACO", department: "05").code == "05100")
        #expect(r.resolve(name: "SAN ANDRES DE TUMACO", department: "05") == .resolved(code: "05100", how: "exact"))
        #expect(r.resolve(name: "BOGOTA", department: "05").code == "05101")
        #expect(r.resolve(name: "CARLOSAMA", department: "05") == .resolved(code: "05102", how: "alternative_name"))
        #expect(r.resolve(name: "CUASPUD", department: "05") == .resolved(code: "05102", how: "exact"))
        #expect(r.resolve(name: "BOLIVAR", department: "05") == .resolved(code: "05103", how: "exact"))
        #expect(r.resolve(name: "GENOVA", department: "05").code == "05104")
    }

    @Test("Common unmarked abbreviations: PTO for Puerto, STA for Santa")
    func commonAbbreviations() {
        let r = resolver(["Puerto Nariño", "Santa Rosalía", "San Rosalía"])
        #expect(r.resolve(name: "PTO NARINO", department: "05") == .resolved(code: "05100", how: "abbreviation"))
        #expect(r.resolve(name: "STA ROSALIA", department: "05").code == "05101")
    }

    @Test("A short name is not taken as truncated: its last word must be whole")
    func onlyFullWidthNamesAreTruncated() {
        let r = resolver(["San Andrés Sotavento"])
        #expect(r.resolve(name: "SAN ANDRES D SOTAVEN", department: "05").code == "05100")
        guard case .unresolved = r.resolve(name: "SAN ANDRES SOTAV", department: "05") else {
            Issue.record("a 16-character name must not be read as cut short"); return
        }
    }

    @Test("A leading article counts: LA UNION is not Unión Panamericana")
    func leadingArticleCounts() {
        let r = resolver(["Unión Panamericana", "Castilla la Nueva"])
        guard case .unresolved = r.resolve(name: "LA UNION", department: "05") else {
            Issue.record("La Unión must not match Unión Panamericana"); return
        }
        #expect(r.resolve(name: "CASTILLA NUEVA", department: "05").code == "05101")
    }

    @Test("A DANE code is accepted as a name, within its department")
    func daneCode() {
        let r = resolver(["Abejorral"])
        #expect(r.resolve(name: "05100", department: "Antioquia") == .resolved(code: "05100", how: "dane_code"))
        guard case .unresolved = r.resolve(name: "76001", department: "Antioquia") else {
            Issue.record("a code of another department must not resolve"); return
        }
    }

    @Test("Two rows of a list claiming the same place are both refused, each naming the other")
    func duplicatesInAList() {
        let r = resolver(["Andes", "Argelia"])
        let summary = r.resolveList([("ANDES", "Antioquia"), ("ARGELIA", "Antioquia"), ("Andes", "05")])
        #expect(summary.resolved.map(\.name) == ["ARGELIA"])
        #expect(summary.unresolved.map(\.index) == [0, 2])
        if case .unresolved(let reason, _) = summary.rows[0].resolution { #expect(reason.contains("Andes")) }
    }
}

@Suite("Entity name resolver: departments")
struct DepartmentResolutionTests {
    let resolver: EntityNameResolver

    init() throws {
        resolver = try DivipolaFiles.resolver()
    }

    @Test("Department names resolve whatever their accents, case, articles or abbreviations",
          arguments: [
              ("Guajira", "44"), ("La Guajira", "44"), ("Valle Del Cauca", "76"), ("valle", "76"), ("Narino", "52"),
              ("NARIÑO", "52"), ("Santander", "68"), ("Norte De Santander", "54"), ("Cauca", "19"),
              ("San Andres", "88"), ("San Andrés y Providencia", "88"), ("Bogota", "11"), ("Bogotá D.C.", "11"),
              ("05", "05"), ("Cordoba", "23"), ("Atlántico", "08"),
          ])
    func departmentNames(name: String, code: String) {
        #expect(resolver.resolveDepartment(name) == [code])
    }

    @Test("An unknown department resolves to nothing")
    func unknownDepartment() {
        #expect(resolver.resolveDepartment("Atlantis").isEmpty)
        #expect(resolver.resolveDepartment("").isEmpty)
        #expect(resolver.resolveDepartment("98").isEmpty)
    }

    @Test("A word shared by several departments is ambiguous")
    func ambiguousDepartment() {
        // "S." is a whole one-word name for Santander and Sucre alike; "Norte" begins only Norte de Santander.
        #expect(resolver.resolveDepartment("Norte") == ["54"])
        #expect(resolver.resolveDepartment("S.") == ["68", "70"])
    }
}
