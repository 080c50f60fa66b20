import Foundation

/// A report the tool writes as a JSON file (`--report`).
public protocol JSONReport: Encodable {}

extension JSONReport {
    /// Writes the report as JSON to `path` (mode 0600, atomically).
    public func write(to path: String) throws {
        let writer = try AtomicFileWriter(path: path)
        try writer.write(Array(try jsonBytes()) + [UInt8(ascii: "\n")])
        try writer.commit()
    }

    /// The report as pretty, key-sorted, snake_case JSON.
    public func jsonBytes() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(self)
    }
}

extension RunReport: JSONReport {}
extension RunPreview: JSONReport {}
