// Makes test failures show a DatabaseError's details (its description is generic on purpose).
import SetaDatabase
import Testing

extension DatabaseError: CustomTestStringConvertible {
    public var testDescription: String { debugDescription }
}
