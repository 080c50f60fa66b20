import Foundation
import Testing

@testable import VerilockBatch

/// gzip inputs, compressed by the system's gzip(1): read exactly as the plain file is, with the
/// same line numbers, or refused with a message naming the file.
@Suite("gzip inputs")
struct GzipInputTests {
    let folder = TemporaryDirectory()

    /// `bytes` compressed by gzip(1) (not by this code); a missing gzip fails the test.
    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let folder = TemporaryDirectory()
        let plain = folder.write("plain", bytes: bytes)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-n", "-k", "-6", plain]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "gzip failed")
        return Array(try Data(contentsOf: URL(fileURLWithPath: plain + ".gz")))
    }

    /// A CSV of `rows` rows with LF and CRLF line ends, quoted fields holding line breaks and
    /// non-ASCII names, so records and characters cross chunk boundaries.
    static func csv(rows: Int, seed: UInt64) -> String {
        var random = SplitMix64(seed: seed)
        var text = "user_id,email,name\r\n"
        for index in 0..<rows {
            let end = random.next() % 2 == 0 ? "\n" : "\r\n"
            let name = random.next() % 5 == 0 ? "\"Zoë\nLine \(index)\"" : "Name \(random.next() % 100_000)"
            text += "u-\(index),u\(index)@example.com,\(name)\(end)"
        }
        return text
    }

    /// Every record of the file at `path` (header first), read in chunks of `chunkSize`.
    func records(_ path: String, chunkSize: Int, compression: InputCompression = .auto) throws -> [String] {
        var reader = try CSVReader(
            source: try ByteChunkReader(path: path, chunkSize: chunkSize, compression: compression))
        var lines = [reader.header.joined(separator: "|")]
        while let record = try reader.next() {
            guard case .cells(let cells) = record.content else {
                lines.append("\(record.line): malformed")
                continue
            }
            lines.append("\(record.line): " + cells.joined(separator: "|"))
        }
        return lines
    }

    func inputError(_ body: () throws -> some Any) -> InputError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? InputError
        }
    }

    @Test("a .csv.gz reads to the same records and line numbers as the plain file, at any chunk size")
    func sameRecords() throws {
        let seed: UInt64 = 0x5EED_0015
        print("seed \(seed)")
        let text = Self.csv(rows: 3000, seed: seed)
        let plain = folder.write("rows.csv", text)
        let packed = folder.write("rows.csv.gz", bytes: try Self.gzip(Array(text.utf8)))
        let expected = try records(plain, chunkSize: 1 << 20)
        #expect(expected.count == 3001)
        for chunkSize in [1, 7, 4096, 1 << 20] {
            #expect(try records(packed, chunkSize: chunkSize) == expected, "chunk size \(chunkSize)")
        }
    }

    @Test("members written one after another (cat a.gz b.gz) read as one file")
    func concatenatedMembers() throws {
        let head = "user_id,email,name\nu-1,a@example.com,Ana\n"
        let tail = "u-2,b@example.com,Ben\nu-3,c@example.com,Chloé\n"
        let path = folder.write("joined.csv.gz", bytes: try Self.gzip(Array(head.utf8)) + Self.gzip(Array(tail.utf8)))
        #expect(
            try records(path, chunkSize: 5) == [
                "user_id|email|name", "2: u-1|a@example.com|Ana", "3: u-2|b@example.com|Ben",
                "4: u-3|c@example.com|Chloé",
            ])
    }

    @Test("gzip is found by its first bytes too: a piped or misnamed export is inflated")
    func sniffedWithoutName() throws {
        let path = folder.write("export.csv", bytes: try Self.gzip(Array("user_id\nu-1\n".utf8)))
        #expect(try records(path, chunkSize: 3) == ["user_id", "2: u-1"])
        #expect(try records(path, chunkSize: 3, compression: .gzip) == ["user_id", "2: u-1"])
    }

    @Test("a file cut short is refused as truncated, naming the file")
    func truncated() throws {
        print("seed 7")
        let text = Self.csv(rows: 2000, seed: 7)
        let packed = try Self.gzip(Array(text.utf8))
        for cut in [6, packed.count / 2, packed.count - 4] {
            let path = folder.write("cut-\(cut).csv.gz", bytes: Array(packed.prefix(cut)))
            let error = inputError { try records(path, chunkSize: 4096) }
            #expect(error == .truncatedCompressed(path: path), "cut at \(cut)")
            #expect(error?.description.contains("cut short") == true)
        }
    }

    @Test("damaged data and bytes after the last member are refused with the compressed offset")
    func damaged() throws {
        print("seed 8")
        let text = Self.csv(rows: 2000, seed: 8)
        var packed = try Self.gzip(Array(text.utf8))
        let trailing = folder.write("trailing.csv.gz", bytes: packed + Array("garbage".utf8))
        let trailingError = inputError { try records(trailing, chunkSize: 4096) }
        guard case .corruptCompressed(let path, let offset, let reason) = trailingError else {
            Issue.record("expected corruptCompressed, got \(String(describing: trailingError))")
            return
        }
        #expect(path == trailing)
        #expect(offset == Int64(packed.count))
        #expect(reason.contains("after the end"))

        // The stored CRC-32 (the trailer's first 4 bytes) no longer matches the text.
        packed[packed.count - 8] ^= 0xFF
        let crc = folder.write("crc.csv.gz", bytes: packed)
        guard case .corruptCompressed(_, _, let crcReason) = inputError({ try records(crc, chunkSize: 4096) }) else {
            Issue.record("a wrong CRC was not noticed")
            return
        }
        #expect(crcReason.contains("check"))
    }

    @Test("zero padding after the last member is read past, as gzip(1) does; a stray byte is not")
    func padding() throws {
        let packed = try Self.gzip(Array("user_id\nu-1\n".utf8))
        for zeros in [1, 512, 70_000] {
            let path = folder.write("padded-\(zeros).csv.gz", bytes: packed + [UInt8](repeating: 0, count: zeros))
            #expect(try records(path, chunkSize: 4096) == ["user_id", "2: u-1"], "\(zeros) zero bytes")
        }
        let stray = folder.write("stray.csv.gz", bytes: packed + [0x0A])
        #expect(
            inputError { try records(stray, chunkSize: 4096) }
                == .corruptCompressed(
                    path: stray, offset: Int64(packed.count),
                    reason: "bytes after the end of the gzip data are not gzip"))
        let late = folder.write("late.csv.gz", bytes: packed + [0, 0, 7])
        guard case .corruptCompressed(_, let offset, _) = inputError({ try records(late, chunkSize: 4096) }) else {
            Issue.record("a byte after the padding was not noticed")
            return
        }
        #expect(offset == Int64(packed.count + 2))
    }

    @Test("damage is placed where zlib found it, not at the start of the read")
    func damageOffset() throws {
        print("seed 9")
        var packed = try Self.gzip(Array(Self.csv(rows: 2000, seed: 9).utf8))
        let middle = packed.count / 2
        packed[middle] ^= 0x55
        let path = folder.write("flipped.csv.gz", bytes: packed)
        guard case .corruptCompressed(_, let offset, _) = inputError({ try records(path, chunkSize: 1 << 20) }) else {
            Issue.record("a flipped byte was not noticed")
            return
        }
        #expect(offset > 10 && offset <= Int64(packed.count), "offset \(offset) of \(packed.count)")
    }

    @Test("damage in a later member is damage, not bytes after the end")
    func damagedLaterMember() throws {
        print("seed 10")
        let first = try Self.gzip(Array("user_id\nu-1\n".utf8))
        var second = try Self.gzip(Array(Self.csv(rows: 500, seed: 10).utf8))
        second[second.count / 2] ^= 0x55
        let path = folder.write("later.csv.gz", bytes: first + second)
        guard case .corruptCompressed(_, let offset, let reason) = inputError({ try records(path, chunkSize: 4096) })
        else {
            Issue.record("damage in the second member was not noticed")
            return
        }
        #expect(!reason.contains("after the end"), "\(reason)")
        #expect(offset > Int64(first.count))
    }

    @Test("a file compressed twice, gzip read as none, and an empty .gz each get a message that says so")
    func misleadingCases() throws {
        let once = try Self.gzip(Array("user_id\nu-1\n".utf8))
        let twice = folder.write("twice.csv.gz", bytes: try Self.gzip(once))
        guard case .malformed(_, 1, let reason) = inputError({ try records(twice, chunkSize: 4096) }) else {
            Issue.record("a file compressed twice was not named")
            return
        }
        #expect(reason.contains("compressed twice"))
        let packed = folder.write("packed.csv.gz", bytes: once)
        guard
            case .malformed(_, 1, let plainReason) = inputError({
                try records(packed, chunkSize: 4096, compression: .plain)
            })
        else {
            Issue.record("gzip read as plain text was not named")
            return
        }
        #expect(plainReason.contains("input.compression is none"))
        for bytes in [[], [0x1F]] as [[UInt8]] {
            let path = folder.write("short-\(bytes.count).csv.gz", bytes: bytes)
            #expect(inputError { try records(path, chunkSize: 4096) } == .truncatedCompressed(path: path))
        }
    }

    @Test("a .gz name on a plain file, or compression: gzip on one, is refused; none reads it plain")
    func notCompressed() throws {
        let plainNamedGz = folder.write("rows.csv.gz", "user_id\nu-1\n")
        #expect(
            inputError { try records(plainNamedGz, chunkSize: 64) }
                == .notCompressed(path: plainNamedGz, reason: "its name ends in .gz"))
        #expect(try records(plainNamedGz, chunkSize: 64, compression: .plain) == ["user_id", "2: u-1"])
        let plain = folder.write("rows.csv", "user_id\nu-1\n")
        #expect(
            inputError { try records(plain, chunkSize: 64, compression: .gzip) }
                == .notCompressed(path: plain, reason: "input.compression is gzip"))
    }

    @Test("a byte that is not UTF-8 inside a gzip file is reported on its line of the text")
    func wrongEncodingLine() throws {
        let bytes = Array("user_id,name\nu-1,Ana\nu-2,Ben\nu-3,Zo".utf8) + [0xEB] + Array("\n".utf8)
        let path = folder.write("latin.csv.gz", bytes: try Self.gzip(bytes))
        #expect(
            inputError { try records(path, chunkSize: 4) }
                == .wrongEncoding(path: path, line: 4, byte: 0xEB, likely: .windows1252))
    }

    @Test("format by extension looks past .gz")
    func formatPastGz() {
        #expect(InputFormat.auto.resolved(for: "in/users.ndjson.gz") == .ndjson)
        #expect(InputFormat.auto.resolved(for: "in/users.JSONL.GZ") == .ndjson)
        #expect(InputFormat.auto.resolved(for: "in/users.csv.gz") == .csv)
    }
}
