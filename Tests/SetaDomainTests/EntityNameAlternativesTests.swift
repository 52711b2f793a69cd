// Names as people write them (issue 15 item 5): official long, historical and seat names resolve, and nothing is guessed.
import Foundation
import Testing
@testable import SetaDomain

enum AlternativeNamesFile {
    /// DIVIPOLA with the shipped alternative names (Data/divipola-nombres-alternativos.csv) attached.
    static func places() throws -> [Place] {
        let rows = try CSVReader.parse(try RepositoryData.text("divipola-nombres-alternativos.csv"),
                                       expectedHeader: ["dane_code", "name", "kind", "source"])
        var byCode: [String: [String]] = [:]
        for row in rows { byCode[row[0], default: []].append(row[1]) }
        return try DivipolaFiles.places().map { place in
            var p = place
            p.alternativeNames = byCode[place.code] ?? []
            return p
        }
    }

    static let resolver: EntityNameResolver? = try? EntityNameResolver(places: places())
}

@Suite("Entity name resolver: long, historical and seat names")
struct EntityNameAlternativesTests {
    /// Names as printed lists write them, and the one right answer. Each was checked by hand against DIVIPOLA.
    static let written: [(name: String, department: String, code: String)] = [
        ("VILLA DE LEIVA", "BOYACA", "15407"),
        ("CHIBOLO", "MAGDALENA", "47170"),
        ("CARTAGENA DE INDIAS", "BOLIVAR", "13001"),
        ("SANTIAGO DE CALI", "VALLE", "76001"),
        ("SAN JOSE DE CUCUTA", "NORTE DE SANTANDER", "54001"),
        ("SAN JUAN DE PASTO", "NARIÑO", "52001"),
        ("SANTA CRUZ DE MOMPOX", "BOLIVAR", "13468"),
        ("MOMPOX", "BOLIVAR", "13468"),
        ("SANTA CRUZ DE LORICA", "CORDOBA", "23417"),
        ("PUERTO INIRIDA", "GUAINIA", "94001"),
        ("BELALCAZAR", "CAUCA", "19517"),
        ("BELALCAZAR", "CALDAS", "17088"),
        ("LA HORMIGA", "PUTUMAYO", "86865"),
        ("VALLE DEL GUAMUEZ", "PUTUMAYO", "86865"),
        ("SANTAFE DE BOGOTA", "BOGOTA D.C.", "11001"),
        ("BUGA", "VALLE DEL CAUCA", "76111"),
        ("GUADALAJARA DE BUGA", "VALLE DEL CAUCA", "76111"),
        ("PROVIDENCIA Y SANTA CATALINA ISLAS", "SAN ANDRES", "88564"),
        ("MANAURE BALCON DEL CESAR", "CESAR", "20443"),
        ("MANAURE", "LA GUAJIRA", "44560"),
        ("EL ESPINAL", "TOLIMA", "73268"),
        ("SAN SEBASTIAN DE MARIQUITA", "TOLIMA", "73443"),
        ("CARLOSAMA", "NARIÑO", "52224"),
        ("LOPEZ DE MICAY", "CAUCA", "19418"),
        ("CODAZZI", "CESAR", "20013"),
        ("UBATE", "CUNDINAMARCA", "25843"),
        ("ISCUANDE", "NARIÑO", "52696"),
        ("SANTA BARBARA DE ISCUANDE", "NARIÑO", "52696"),
        ("TUMACO", "NARIÑO", "52835"),
        ("EL PEÑOL", "ANTIOQUIA", "05541"),
        ("EL PEÑOL", "NARIÑO", "52254"),
        ("SANTUARIO", "ANTIOQUIA", "05697"),
        ("SANTUARIO", "RISARALDA", "66687"),
        ("LA DORADA", "PUTUMAYO", "86757"),
        ("LA DORADA", "CALDAS", "17380"),
        ("PUERTO LEGUIZAMO", "PUTUMAYO", "86573"),
        ("EL DIFICIL", "MAGDALENA", "47058"),
        ("BOCAS DE SATINGA", "NARIÑO", "52490"),
        ("SAN JUAN DE GIRON", "SANTANDER", "68307"),
        ("CARMEN DE BOLIVAR", "BOLIVAR", "13244"),
        ("ARMERO GUAYABAL", "TOLIMA", "73055"),
        ("PIE DE PATO", "CHOCO", "27025"),
        ("BELLAVISTA", "CHOCO", "27099"),
        ("S. JUAN DE PASTO", "NARIÑO", "52001"),
    ]

    @Test("every long, historical or seat name in the list resolves to its one right code: no wrong guess")
    func noWrongGuess() throws {
        let resolver = try #require(AlternativeNamesFile.resolver)
        for w in Self.written {
            let r = resolver.resolve(name: w.name, department: w.department)
            #expect(r.code == w.code, "\(w.name) (\(w.department)): \(r)")
        }
    }

    @Test("every shipped alternative name resolves to its own entity in its own department")
    func shippedNamesResolve() throws {
        let resolver = try #require(AlternativeNamesFile.resolver)
        for place in try AlternativeNamesFile.places() {
            for name in place.alternativeNames {
                let r = resolver.resolve(name: name, department: place.departmentCode)
                #expect(r.code == place.code, "\(name) (\(place.departmentName)): \(r)")
            }
        }
    }

    @Test("the Fase II list resolves exactly as before: the alternative names change no answer")
    func faseIIUnchanged() throws {
        let resolver = try #require(AlternativeNamesFile.resolver)
        let plain = try DivipolaFiles.resolver()
        let list = try DivipolaFiles.faseIIList()
        let with = resolver.resolveList(list), without = plain.resolveList(list)
        #expect(with.resolved.count == 365)
        #expect(zip(with.rows, without.rows).allSatisfy { $0.resolution.code == $1.resolution.code })
    }

    @Test("a name known in another department is not taken: never a guess across departments")
    func otherDepartment() throws {
        let resolver = try #require(AlternativeNamesFile.resolver)
        #expect(resolver.resolve(name: "VILLA DE LEIVA", department: "CUNDINAMARCA").code == nil)
        #expect(resolver.resolve(name: "LA HORMIGA", department: "NARIÑO").code == nil)
    }

    @Test("a misspelt name is unresolved, with the nearest names as suggestions, never chosen")
    func suggestions() throws {
        let resolver = try #require(AlternativeNamesFile.resolver)
        guard case .unresolved(let reason, let suggestions) = resolver.resolve(name: "CHIBOLA", department: "MAGDALENA") else {
            Issue.record("expected unresolved"); return
        }
        #expect(suggestions.first == "47170", "\(suggestions)")
        #expect(reason.contains("47170"))
        guard case .unresolved(_, let far) = resolver.resolve(name: "XYZXYZXYZ", department: "MAGDALENA") else {
            Issue.record("expected unresolved"); return
        }
        #expect(far.isEmpty)
    }

    @Test("several equally good candidates stay ambiguous, listed with their codes")
    func ambiguous() throws {
        let resolver = try #require(AlternativeNamesFile.resolver)
        guard case .ambiguous(let candidates) = resolver.resolve(name: "PUERTO", department: "PUTUMAYO") else {
            Issue.record("expected ambiguous"); return
        }
        #expect(candidates.count >= 2)
        #expect(candidates.allSatisfy { $0.hasPrefix("86") && $0.count == 5 })
    }
}
