import Foundation

/// A streaming NDJSON reader: one JSON object per line, blank lines skipped. Lines end with LF,
/// CRLF or a bare CR (classic Mac exports): JSON allows a raw CR only as whitespace between
/// tokens, so no record is cut that a one-line NDJSON writer wrote.
///
/// Lines are split from 1 MiB chunks; a line longer than `maxRecordBytes` is skipped to its end
/// without being held in memory and comes back as malformed, like a line that is not a JSON
/// object. The source has checked that the bytes are UTF-8.
public struct NDJSONReader {
    private let source: ByteChunkReader
    private let maxRecordBytes: Int
    private var chunk: [UInt8] = []
    private var position = 0
    private var atEnd = false
    private var line = 0
    private var first = true
    /// The last line ended with a CR: an LF right after it belongs to that line end.
    private var skipLF = false
    /// Where the next LF and CR of `chunk` are at or after `position` (`chunk.count`: none;
    /// -1: not looked for yet).
    private var nextLF = -1
    private var nextCR = -1

    /// Opens a reader over `source`.
    public init(source: ByteChunkReader, maxRecordBytes: Int = 1 << 20) {
        self.source = source
        self.maxRecordBytes = maxRecordBytes
    }

    /// The next non-blank record, or nil at the end of the input.
    public mutating func next() throws(InputError) -> RawRecord? {
        while true {
            guard let (bytes, oversized) = try nextLine() else { return nil }
            if oversized {
                return RawRecord(line: line, content: .malformed("the line is larger than \(maxRecordBytes) bytes"))
            }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            return RawRecord(line: line, content: parse(bytes))
        }
    }

    private func parse(_ bytes: [UInt8]) -> RawRecord.Content {
        let value: JSONValue
        do {
            value = try StrictJSONParser.parse(bytes)
        } catch {
            return .malformed("the line is not valid JSON: \(error.reason)")
        }
        guard case .object(let members) = value else {
            return .malformed("the line is a JSON \(value.typeName), not an object")
        }
        return .object(members)
    }

    /// The next physical line without its line end, and whether it was cut at the size limit.
    private mutating func nextLine() throws(InputError) -> ([UInt8], Bool)? {
        var bytes: [UInt8] = []
        var oversized = false
        var sawAny = false
        while true {
            if position >= chunk.count {
                if atEnd { break }
                position = 0
                if !(try source.readChunk(into: &chunk)) {
                    atEnd = true
                    break
                }
                if first {
                    first = false
                    if chunk.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
                }
                nextLF = -1
                nextCR = -1
            }
            if skipLF {
                skipLF = false
                if chunk[position] == 0x0A {
                    position += 1
                    continue
                }
            }
            sawAny = true
            let rest = chunk[position...]
            if nextLF < position { nextLF = Self.find(0x0A, in: chunk, from: position) ?? chunk.count }
            if nextCR < position { nextCR = Self.find(0x0D, in: chunk, from: position) ?? chunk.count }
            let newline = min(nextLF, nextCR)
            if newline < chunk.count {
                take(chunk[position..<newline], into: &bytes, oversized: &oversized)
                position = newline + 1
                line += 1
                skipLF = chunk[newline] == 0x0D
                return (bytes, oversized)
            }
            take(rest, into: &bytes, oversized: &oversized)
            position = chunk.count
        }
        guard sawAny, !bytes.isEmpty || oversized else { return nil }
        line += 1
        return (bytes, oversized)
    }

    /// The index of the next `byte` at or after `start` (memchr: a 100 MB line is scanned at
    /// memory speed, also in debug builds).
    private static func find(_ byte: UInt8, in bytes: [UInt8], from start: Int) -> Int? {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, start < buffer.count else { return nil }
            guard let found = memchr(base + start, Int32(byte), buffer.count - start) else { return nil }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
    }

    private func take(_ slice: ArraySlice<UInt8>, into bytes: inout [UInt8], oversized: inout Bool) {
        guard !oversized else { return }
        if bytes.count + slice.count > maxRecordBytes {
            oversized = true
            bytes.removeAll()
            return
        }
        bytes.append(contentsOf: slice)
    }
}
