import Foundation
import Testing

@testable import VerilockBatch

@Suite("Hostile input: every bad record is rejected with its line, in bounded memory, never a crash")
struct HostileInputTests {
    let folder = TemporaryDirectory()

    func ndjson(_ bytes: [UInt8]) throws -> [RawRecord] {
        let path = folder.write("in.ndjson", bytes: bytes)
        var reader = NDJSONReader(source: try ByteChunkReader(path: path))
        var records: [RawRecord] = []
        while let record = try reader.next() { records.append(record) }
        return records
    }

    func problem(_ record: RawRecord) -> String? {
        if case .malformed(let reason) = record.content { return reason }
        return nil
    }

    @Test("an NDJSON line of 100 MB is rejected as too large; the next line is read")
    func hugeLine() throws {
        var bytes = Array("{\"external_id\":\"".utf8)
        bytes += [UInt8](repeating: UInt8(ascii: "x"), count: 100 << 20)
        bytes += Array("\"}\n{\"external_id\":\"ok\"}\n".utf8)
        let records = try ndjson(bytes)
        #expect(records.count == 2)
        #expect(problem(records[0]) == "the line is larger than 1048576 bytes")
        #expect(records[1].line == 2)
        #expect(problem(records[1]) == nil)
    }

    @Test("JSON nested 100,000 deep is rejected, not a stack overflow")
    func deepNesting() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let records = try ndjson(
            Array("{\"external_id\":\"a\",\"metadata\":{\"x\":\(deep)}}\n{\"external_id\":\"b\"}\n".utf8))
        #expect(records.count == 2)
        #expect(problem(records[0]) != nil)
        #expect(problem(records[1]) == nil)
    }

    @Test("metadata nested deeper than 16 levels is rejected by validation")
    func metadataDepth() {
        var value = JSONValue.string("leaf")
        for _ in 0..<20 { value = .object(["k": value]) }
        let result = RowMapper(ndjsonMapping: ColumnMapping()).map(
            .object(["external_id": .string("a"), "metadata": value]))
        guard case .failure(let rejection) = result else {
            Issue.record("expected a rejection")
            return
        }
        #expect(rejection.message == "metadata is nested deeper than 16 levels")
    }

    @Test("a CSV whose quote never closes, over a large file, is one rejected record in bounded memory")
    func unterminatedQuoteInLargeFile() throws {
        var bytes = Array("external_id,name\nu-1,ok\nu-2,\"".utf8)
        bytes += Array(repeating: Array("line of text, still quoted\n".utf8), count: 50_000).flatMap { $0 }
        let path = folder.write("big.csv", bytes: bytes)
        var reader = try CSVReader(source: try ByteChunkReader(path: path))
        var records: [RawRecord] = []
        while let record = try reader.next() { records.append(record) }
        #expect(records.count == 2)
        // The record ran past 1 MiB (and stopped being held); the message names the real cause.
        #expect(problem(records[1]) == "a quoted cell opened on line 3 is never closed")
        #expect(records[1].line == 3)
    }

    @Test("a file that is not text: one file-level error naming the file and line, in either format")
    func binaryFile() throws {
        var generator = SplitMix64(seed: 42)
        let bytes = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let expected = try #require(FuzzTests.encodingError(bytes))
        for format in ["csv", "ndjson"] {
            let path = folder.write("binary.\(format)", bytes: bytes)
            #expect {
                let source = try ByteChunkReader(path: path)
                if format == "csv" {
                    var reader = try CSVReader(source: source)
                    while try reader.next() != nil {}
                } else {
                    var reader = NDJSONReader(source: source)
                    while try reader.next() != nil {}
                }
            } throws: { error in
                guard case InputError.wrongEncoding(path, expected.line, _, expected.likely) = error else {
                    return false
                }
                return "\(error)".hasPrefix("\(path):\(expected.line): the file is not UTF-8")
            }
        }
    }

    @Test("a record with more than 4096 cells is rejected")
    func tooManyCells() throws {
        let wide = Array(repeating: "x", count: 5000).joined(separator: ",")
        let path = folder.write("wide.csv", "a,b\n\(wide)\n1,2\n")
        var reader = try CSVReader(source: try ByteChunkReader(path: path))
        let first = try #require(try reader.next())
        #expect(problem(first) == "the record has more than 4096 cells")
        #expect(try reader.next()?.line == 3)
    }
}
