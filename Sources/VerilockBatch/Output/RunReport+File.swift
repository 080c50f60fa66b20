import Foundation

extension RunReport {
    /// Writes the report as JSON to `path` (mode 0600, atomically).
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let writer = try AtomicFileWriter(path: path)
        try writer.write(Array(try encoder.encode(self)) + [UInt8(ascii: "\n")])
        try writer.commit()
    }
}
