import Foundation
import Testing

@testable import VerilockBatch

/// Feeds the CSV and NDJSON readers mutated samples and random bytes, a fixed number of times from
/// a seed, and checks the readers' invariants on each input (see ``checkNDJSON`` and ``checkCSV``).
///
/// `FUZZ_SEED` (decimal or 0x-hex) replays a run; every failure names the seed and the iteration.
/// `FUZZ_ITERATIONS` sets the number of inputs per format.
@Suite("Fuzzing the readers")
struct FuzzTests {
    static let defaultSeed: UInt64 = 0x5EED_1234_ABCD_0001
    static let maxRecordBytes = 4096
    static let maxFields = 64
    static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    static var seed: UInt64 {
        guard let text = ProcessInfo.processInfo.environment["FUZZ_SEED"] else { return defaultSeed }
        if text.lowercased().hasPrefix("0x") { return UInt64(text.dropFirst(2), radix: 16) ?? defaultSeed }
        return UInt64(text) ?? defaultSeed
    }

    static var iterations: Int {
        ProcessInfo.processInfo.environment["FUZZ_ITERATIONS"].flatMap(Int.init) ?? 400
    }

    static func sample(_ name: String) throws -> [UInt8] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return Array(try Data(contentsOf: root.appendingPathComponent("samples/" + name)))
    }

    /// The input for one iteration: random bytes one time in ten, else a few mutations of `sample`.
    static func input(from sample: [UInt8], _ generator: inout SplitMix64) -> [UInt8] {
        if Int.random(in: 0..<10, using: &generator) == 0 {
            return (0..<Int.random(in: 0...512, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
        }
        var bytes = sample
        for _ in 0..<Int.random(in: 1...6, using: &generator) { mutate(&bytes, &generator) }
        return bytes
    }

    /// One mutation: a byte flipped, inserted or deleted, a slice duplicated, a cut line, quotes,
    /// line ends changed (LF, CRLF, CR), NUL, invalid UTF-8, a huge or blank line, a BOM.
    static func mutate(_ bytes: inout [UInt8], _ generator: inout SplitMix64) {
        let specials: [UInt8] = [
            0x22, 0x2C, 0x3B, 0x09, 0x0A, 0x0D, 0x00, 0xFF, 0xC3, 0x7B, 0x7D, 0x5B, 0x5D, 0x5C, 0x20,
        ]
        let position = Int.random(in: 0...bytes.count, using: &generator)
        let inside = bytes.isEmpty ? 0 : min(position, bytes.count - 1)
        switch Int.random(in: 0..<13, using: &generator) {
        case 0 where !bytes.isEmpty: bytes[inside] = UInt8.random(in: 0...255, using: &generator)
        case 1: bytes.insert(specials[Int.random(in: 0..<specials.count, using: &generator)], at: position)
        case 2 where !bytes.isEmpty: bytes.remove(at: inside)
        case 3:
            let end = min(bytes.count, position + Int.random(in: 1...64, using: &generator))
            bytes.insert(contentsOf: bytes[position..<end], at: position)
        case 4:
            bytes.insert(
                contentsOf: [UInt8](repeating: 0x22, count: Int.random(in: 1...3, using: &generator)), at: position)
        case 5: bytes.removeSubrange(position...)
        case 6:
            let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map {
                $0.last == 0x0D ? Array($0.dropLast()) : Array($0)
            }
            let ends: [[UInt8]] = [[0x0A], [0x0D, 0x0A], [0x0D]]
            let end = ends[Int.random(in: 0..<ends.count, using: &generator)]
            bytes = Array(lines.joined(separator: end))
        case 7:
            let length = Int.random(in: maxRecordBytes - 8...maxRecordBytes * 3, using: &generator)
            let fill = [UInt8(ascii: "x"), 0x20, 0x22, 0x2C][Int.random(in: 0..<4, using: &generator)]
            bytes.insert(contentsOf: [UInt8](repeating: fill, count: length) + [0x0A], at: position)
        case 8:
            let invalid: [[UInt8]] = [[0xC3, 0x28], [0xED, 0xA0, 0x80], [0xFF], [0xE2, 0x82], [0xF8, 0x88, 0x80]]
            bytes.insert(contentsOf: invalid[Int.random(in: 0..<invalid.count, using: &generator)], at: position)
        case 9: bytes.insert(0x00, at: position)
        case 10: bytes.insert(contentsOf: bom, at: 0)
        case 11:
            let blanks: [[UInt8]] = [[0x0A], [0x0D, 0x0A], [0x20, 0x09, 0x0D, 0x0A], [0x0D]]
            bytes.insert(contentsOf: blanks[Int.random(in: 0..<blanks.count, using: &generator)], at: position)
        default: bytes.append(UInt8.random(in: 0...255, using: &generator))
        }
    }

    /// The physical lines of `bytes` (split at LF, the BOM left out of line 1), line 1 first.
    /// The lines of `bytes`, ended by LF, CRLF or a bare CR (after a UTF-8 byte-order mark).
    static func physicalLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        let body = bytes.starts(with: bom) ? bytes[3...] : bytes[...]
        var lines: [ArraySlice<UInt8>] = []
        var start = body.startIndex
        var index = body.startIndex
        while index < body.endIndex {
            let byte = body[index]
            if byte == 0x0A || byte == 0x0D {
                lines.append(body[start..<index])
                if byte == 0x0D, index + 1 < body.endIndex, body[index + 1] == 0x0A { index += 1 }
                start = index + 1
            }
            index += 1
        }
        lines.append(body[start..<body.endIndex])
        return lines
    }

    /// The physical lines of a CSV file: split at LF, or, when its first line ends with a bare
    /// CR, at CR, LF and CRLF alike (CRLF counting once).
    static func csvPhysicalLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        let body = bytes.starts(with: bom) ? bytes[3...] : bytes[...]
        guard CSVReader.endsLinesWithCR(body) else {
            return body.split(separator: 0x0A, omittingEmptySubsequences: false)
        }
        return physicalLines(bytes)
    }

    /// Reads `bytes` as NDJSON and checks: no error for a readable file; the reader ends; line
    /// numbers strictly increase; every non-blank physical line (and every line over the limit)
    /// yields exactly one record, parsed or rejected, and no other line does; a rejected record is
    /// rejected by the mapper too; every byte of the file was read.
    static func checkNDJSON(_ bytes: [UInt8], path: String, chunk: Int, context: Comment) throws -> Int {
        let source = try ByteChunkReader(path: path, chunkSize: chunk)
        var reader = NDJSONReader(source: source, maxRecordBytes: maxRecordBytes)
        let mapper = RowMapper(ndjsonMapping: ColumnMapping(sources: [.externalID: ["user_id"]]))
        var lines: [Int] = []
        while let record = try reader.next() {
            lines.append(record.line)
            switch record.content {
            case .object: break
            case .malformed:
                #expect(throws: RowRejection.self, context) { try mapper.map(record.content).get() }
            case .cells: Issue.record("an NDJSON record came back as CSV cells; \(context)")
            }
            guard lines.count <= bytes.count + 1 else {
                Issue.record("the reader does not end; \(context)")
                break
            }
        }
        let blank: Set<UInt8> = [0x20, 0x09, 0x0D]
        let expected = physicalLines(bytes).enumerated().filter { _, line in
            line.count > maxRecordBytes || !line.allSatisfy(blank.contains)
        }.map { $0.offset + 1 }
        #expect(lines == expected, "records on lines \(lines), non-blank lines \(expected); \(context)")
        #expect(try reader.next() == nil, "a second end; \(context)")
        #expect(source.bytesRead == Int64(bytes.count), "bytes read of \(bytes.count); \(context)")
        return lines.count
    }

    /// Everything a CSV reader reading `path` in chunks of `chunk` bytes gives: its header, each
    /// record's line and content, or its error.
    static func csvRecords(_ path: String, chunk: Int) -> [String] {
        do {
            let source = try ByteChunkReader(path: path, chunkSize: chunk)
            var reader = try CSVReader(source: source, maxRecordBytes: maxRecordBytes, maxFields: maxFields)
            var records = ["header \(reader.header)"]
            while let record = try reader.next() { records.append("\(record.line) \(record.content)") }
            return records
        } catch {
            return ["error \(error)"]
        }
    }

    /// Reads `bytes` as CSV and checks: a file-level error only for a file without a readable
    /// header; the reader ends; line numbers strictly increase and each names a non-blank line
    /// after the header; without quotes, every non-blank line after the header is exactly one
    /// record; cells stay within the limits; every byte of the file was read; and lines read
    /// whole from a large chunk give what the byte-by-byte path gives in 3-byte chunks.
    static func checkCSV(_ bytes: [UInt8], path: String, chunk: Int, context: Comment) throws -> Int {
        #expect(
            csvRecords(path, chunk: 1 << 20) == csvRecords(path, chunk: 3),
            "whole lines and byte by byte differ; \(context)")
        let source = try ByteChunkReader(path: path, chunkSize: chunk)
        let physical = csvPhysicalLines(bytes)
        let nonBlank = physical.enumerated().filter { _, line in line.contains { $0 != 0x0D } }.map { $0.offset + 1 }
        let opened: CSVReader
        do {
            opened = try CSVReader(source: source, maxRecordBytes: maxRecordBytes, maxFields: maxFields)
        } catch {
            guard case .malformed(_, let line, let reason) = error else { throw error }
            if nonBlank.isEmpty {
                #expect(reason.hasPrefix("the file is empty"), context)
            } else {
                #expect(reason.hasPrefix("unreadable header row"), "\(reason); \(context)")
                #expect(line == nonBlank.first, context)
            }
            return 0
        }
        #expect(!nonBlank.isEmpty, "a header read from a blank file; \(context)")
        var reader = opened
        var lines: [Int] = []
        while let record = try reader.next() {
            lines.append(record.line)
            switch record.content {
            case .cells(let cells):
                #expect(cells.count <= maxFields, context)
                #expect(cells.reduce(0) { $0 + $1.utf8.count } <= maxRecordBytes, context)
                #expect(!cells.contains { $0.utf8.contains(0) }, context)
            case .malformed: break
            case .object: Issue.record("a CSV record came back as an object; \(context)")
            }
            guard lines.count <= bytes.count + 1 else {
                Issue.record("the reader does not end; \(context)")
                break
            }
        }
        let afterHeader = Array(nonBlank.dropFirst())
        #expect(zip(lines, lines.dropFirst()).allSatisfy { $0 < $1 }, "lines must increase: \(lines); \(context)")
        #expect(lines.allSatisfy(afterHeader.contains), "records on \(lines), non-blank \(nonBlank); \(context)")
        // Without quotes, each line is one record; but in a CR file a bare LF is a line to count
        // and not a record's end (the record spanning it is refused).
        let body = bytes.starts(with: bom) ? bytes[3...] : bytes[...]
        let bareLF = zip(body, body.dropFirst()).contains { $0 != 0x0D && $1 == 0x0A } || body.first == 0x0A
        if !bytes.contains(0x22) && !(CSVReader.endsLinesWithCR(body) && bareLF) {
            #expect(lines == afterHeader, "records on \(lines), non-blank \(nonBlank); \(context)")
        }
        #expect(try reader.next() == nil, "a second end; \(context)")
        #expect(source.bytesRead == Int64(bytes.count), "bytes read of \(bytes.count); \(context)")
        return lines.count
    }

    /// The line and likely encoding that reading `bytes` as UTF-8 must stop at, by the standard
    /// library's own UTF-8 parser: the first NUL byte of a file whose first 4 KiB are a quarter
    /// NUL bytes (UTF-16 without a byte-order mark), else the first byte that is not UTF-8.
    static func encodingError(_ bytes: [UInt8]) -> (line: Int, likely: InputEncoding)? {
        let sample = bytes.prefix(4096)
        if sample.count >= 4, sample.filter({ $0 == 0 }).count * 4 >= sample.count {
            return (line(at: bytes.firstIndex(of: 0) ?? 0, in: bytes), .utf16)
        }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .emptyInput: return nil
            case .error: return (line(at: offset, in: bytes), .windows1252)
            }
        }
    }

    /// The line that holds `bytes[offset]`, counting LF, CRLF and bare CR as line ends.
    static func line(at offset: Int, in bytes: [UInt8]) -> Int {
        var line = 1
        for (index, byte) in bytes[..<offset].enumerated() {
            if byte == 0x0D || (byte == 0x0A && (index == 0 || bytes[index - 1] != 0x0D)) { line += 1 }
        }
        return line
    }

    /// Reads `bytes`, which are not UTF-8, and checks that reading stops with one
    /// ``InputError/wrongEncoding(path:line:byte:likely:)`` on the expected line, after records
    /// of earlier lines only (or, in CSV, at an unreadable header that starts no later).
    static func checkWrongEncoding(
        _ bytes: [UInt8], expected: (line: Int, likely: InputEncoding), path: String, format: String, chunk: Int,
        context: Comment
    ) {
        var lines: [Int] = []
        do {
            let source = try ByteChunkReader(path: path, chunkSize: chunk)
            if format == "csv" {
                var reader = try CSVReader(source: source, maxRecordBytes: maxRecordBytes, maxFields: maxFields)
                while let record = try reader.next() { lines.append(record.line) }
            } else {
                var reader = NDJSONReader(source: source, maxRecordBytes: maxRecordBytes)
                while let record = try reader.next() { lines.append(record.line) }
            }
            Issue.record("not UTF-8 (line \(expected.line)), yet read to the end; \(context)")
        } catch InputError.wrongEncoding(_, let line, _, let likely) {
            #expect(line == expected.line, "stopped at line \(line.map(String.init) ?? "?"); \(context)")
            #expect(likely == expected.likely, context)
            #expect(lines.allSatisfy { $0 < expected.line }, "records on \(lines); \(context)")
        } catch InputError.malformed(_, let line, let reason) where format == "csv" {
            // A header that breaks the format before the bad byte is the file's first problem.
            #expect(reason.hasPrefix("unreadable header row") && line <= expected.line, "\(reason); \(context)")
        } catch {
            Issue.record("\(error) instead of the encoding error on line \(expected.line); \(context)")
        }
    }

    @Test("mutated and random inputs: no crash, one record or rejection per line, every byte read")
    func fuzz() throws {
        let seed = Self.seed
        let folder = TemporaryDirectory()
        let samples = [("csv", try Self.sample("applicants.csv")), ("ndjson", try Self.sample("applicants.ndjson"))]
        var records = 0
        for iteration in 0..<Self.iterations {
            for (format, sample) in samples {
                // Each input has its own generator, so one failure replays alone from the seed.
                var generator = SplitMix64(seed: seed ^ (UInt64(iteration) &* 0x9E37_79B9_7F4A_7C15))
                let bytes = Self.input(from: sample, &generator)
                // At least 3 bytes, so the first chunk can hold the whole BOM.
                let chunk = [3, 7, 64, 4096, 1 << 20][Int.random(in: 0..<5, using: &generator)]
                let context: Comment =
                    "FUZZ_SEED=\(seed) iteration \(iteration) \(format), chunk \(chunk), \(bytes.count) bytes"
                let path = folder.write("fuzz-\(iteration).\(format)", bytes: bytes)
                if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
                    // UTF-16 by its byte-order mark: the line invariants hold for the transcoded
                    // text, not for these bytes. Reading must still end, within a record a byte.
                    var reader = NDJSONReader(source: try ByteChunkReader(path: path, chunkSize: chunk))
                    var count = 0
                    while (try? reader.next()) != nil, count <= bytes.count { count += 1 }
                    #expect(count <= bytes.count, "the reader does not end; \(context)")
                } else if let expected = Self.encodingError(bytes) {
                    Self.checkWrongEncoding(
                        bytes, expected: expected, path: path, format: format, chunk: chunk, context: context)
                } else {
                    do {
                        records +=
                            try format == "csv"
                            ? Self.checkCSV(bytes, path: path, chunk: chunk, context: context)
                            : Self.checkNDJSON(bytes, path: path, chunk: chunk, context: context)
                    } catch {
                        Issue.record("\(error); \(context)")
                    }
                }
                try FileManager.default.removeItem(atPath: path)
            }
        }
        print("fuzz: FUZZ_SEED=\(seed), \(Self.iterations) inputs per format, \(records) records")
        #expect(records > Self.iterations, "most inputs hold records; FUZZ_SEED=\(seed)")
    }
}
