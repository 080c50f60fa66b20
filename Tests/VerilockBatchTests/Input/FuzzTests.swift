import Foundation
import Testing

@testable import VerilockBatch

/// Feeds the CSV and NDJSON readers random and mutated inputs (from the samples) for a bounded
/// time, and checks the invariants: no crash, every record either parsed or rejected with a line
/// number, line numbers increasing. `FUZZ_SECONDS` sets the time (default 5 s per format).
@Suite("Fuzzing the readers")
struct FuzzTests {
    static var seconds: Double { ProcessInfo.processInfo.environment["FUZZ_SECONDS"].flatMap(Double.init) ?? 5 }

    static let samples: [[UInt8]] = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return ["samples/applicants.csv", "samples/applicants.ndjson"].compactMap { path in
            (try? Data(contentsOf: root.appendingPathComponent(path))).map(Array.init)
        }
    }()

    /// A mutation of `input`: bytes flipped, inserted, deleted, duplicated, or special bytes
    /// (quotes, delimiters, line ends, NUL, invalid UTF-8, braces) put in.
    static func mutate(_ input: [UInt8], _ generator: inout some RandomNumberGenerator) -> [UInt8] {
        var bytes = input
        let specials: [UInt8] = [0x22, 0x2C, 0x3B, 0x09, 0x0A, 0x0D, 0x00, 0xFF, 0xC3, 0x7B, 0x7D, 0x5B, 0x5D, 0x5C]
        for _ in 0..<Int.random(in: 1...8, using: &generator) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<6, using: &generator) {
            case 0 where !bytes.isEmpty: bytes[position] = UInt8.random(in: 0...255, using: &generator)
            case 1: bytes.insert(specials.randomElement(using: &generator) ?? 0, at: position)
            case 2 where !bytes.isEmpty: bytes.remove(at: position)
            case 3 where !bytes.isEmpty:
                let end = min(bytes.count, position + Int.random(in: 1...64, using: &generator))
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            case 4:
                bytes.insert(
                    contentsOf: [UInt8](repeating: 0x22, count: Int.random(in: 1...3, using: &generator)), at: position)
            default: bytes.append(UInt8.random(in: 0...255, using: &generator))
            }
        }
        return bytes
    }

    /// Reads `bytes` as `format`; checks the invariants; returns the number of records.
    static func check(_ bytes: [UInt8], format: InputFormat, folder: TemporaryDirectory) throws -> Int {
        let path = folder.write("fuzz", bytes: bytes)
        let chunk = Int.random(in: 1...64)
        var lines: [Int] = []
        do {
            switch format {
            case .ndjson:
                var reader = NDJSONReader(
                    source: try ByteChunkReader(path: path, chunkSize: chunk), maxRecordBytes: 4096)
                let mapper = RowMapper(ndjsonMapping: ColumnMapping())
                while let record = try reader.next() {
                    lines.append(record.line)
                    _ = mapper.map(record.content)
                }
            default:
                var reader = try CSVReader(
                    source: try ByteChunkReader(path: path, chunkSize: chunk), maxRecordBytes: 4096, maxFields: 64)
                let mapper = try? RowMapper(csvHeader: reader.header, mapping: ColumnMapping(), path: path)
                while let record = try reader.next() {
                    lines.append(record.line)
                    _ = mapper?.map(record.content)
                }
            }
        } catch {
            // A file-level error (empty file, unreadable header) is a valid answer.
        }
        let newlines = bytes.filter { $0 == 0x0A }.count
        #expect(lines.allSatisfy { $0 >= 1 && $0 <= newlines + 1 })
        #expect(zip(lines, lines.dropFirst()).allSatisfy { $0 < $1 }, "line numbers must increase: \(lines)")
        return lines.count
    }

    @Test("random and mutated inputs never crash a reader, and every record has an increasing line")
    func fuzz() throws {
        let folder = TemporaryDirectory()
        var generator = SystemRandomNumberGenerator()
        let deadline = Date().addingTimeInterval(Self.seconds * 2)
        var inputs = 0
        var records = 0
        while Date() < deadline {
            for (index, sample) in Self.samples.enumerated() {
                let format: InputFormat = index == 0 ? .csv : .ndjson
                let input =
                    inputs % 10 == 0
                    ? (0..<Int.random(in: 0...512, using: &generator)).map { _ in
                        UInt8.random(in: 0...255, using: &generator)
                    }
                    : Self.mutate(sample, &generator)
                records += try Self.check(input, format: format, folder: folder)
                inputs += 1
            }
        }
        print("fuzz: \(inputs) inputs, \(records) records, no crash")
        #expect(inputs > 100)
    }
}
