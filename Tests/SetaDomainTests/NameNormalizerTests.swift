// Tests of NameNormalizer: search keys and match tokens.
import Foundation
import Testing
@testable import SetaDomain

@Suite("Name normalizer")
struct NameNormalizerTests {
    @Test("bogota, BOGOTÁ and Bogotá have the same search key")
    func sameSearchKey() {
        #expect(NameNormalizer.searchKey("bogota") == "bogota")
        #expect(NameNormalizer.searchKey("BOGOTÁ") == "bogota")
        #expect(NameNormalizer.searchKey("  Bogotá \t D.C. ") == "bogota d.c.")
    }

    @Test("Ñ and Ü fold to N and U")
    func foldsTildeAndDiaeresis() {
        #expect(NameNormalizer.searchKey("Nariño") == "narino")
        #expect(NameNormalizer.searchKey("GÜEPSA") == "guepsa")
        #expect(NameNormalizer.foldAccents("Río Iró") == "Rio Iro")
    }

    @Test("Accents written as combining marks fold like precomposed ones")
    func combiningMarks() {
        #expect(NameNormalizer.searchKey("Bogota\u{301}") == NameNormalizer.searchKey("Bogot\u{E1}"))
    }

    @Test("Punctuation separates words and a period marks an abbreviation")
    func tokens() {
        #expect(NameNormalizer.matchKey("S.MARTIN DE LOBA") == "S MARTIN DE LOBA")
        #expect(NameNormalizer.matchKey("CUASPUD- CARLOSAMA") == "CUASPUD CARLOSAMA")
        let tokens = NameNormalizer.tokens("SAN BERNARDO V.")
        #expect(tokens.map(\.description) == ["SAN", "BERNARDO", "V."])
        #expect(tokens.last?.markedAbbreviation == true)
    }
}
