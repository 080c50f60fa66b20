import Foundation

/// A streaming RFC 4180 reader working on bytes.
///
/// It handles quoted fields, doubled quotes, newlines inside quotes, CRLF or LF line ends and a
/// UTF-8 byte-order mark; blank lines are skipped. The delimiter (`,`, `;` or tab) is taken from
/// the header line when not given. Each record carries the physical line where it starts. A
/// record that breaks the format (a stray quote, an unterminated quote, invalid UTF-8, more than
/// `maxRecordBytes` bytes or `maxFields` cells) comes back as ``RawRecord/Content/malformed(_:)``
/// and reading goes on; memory stays bounded by `maxRecordBytes` whatever the input.
public struct CSVReader {
    /// The header's column names, read when the reader is made.
    public private(set) var header: [String] = []
    /// The delimiter in use.
    public private(set) var delimiter: UInt8

    private let source: ByteChunkReader
    private let maxRecordBytes: Int
    private let maxFields: Int
    private var chunk: [UInt8] = []
    private var position = 0
    private var atEnd = false
    private var line = 1

    /// Opens a reader over `source` and reads the header.
    /// - Parameter delimiter: the delimiter byte, or nil to detect it from the header line.
    public init(
        source: ByteChunkReader,
        delimiter: UInt8? = nil,
        maxRecordBytes: Int = 1 << 20,
        maxFields: Int = 4096
    ) throws(InputError) {
        self.source = source
        self.maxRecordBytes = maxRecordBytes
        self.maxFields = maxFields
        self.delimiter = delimiter ?? UInt8(ascii: ",")
        chunk.reserveCapacity(1 << 20)
        try fill()
        if chunk.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        if delimiter == nil { self.delimiter = Self.detectDelimiter(chunk[position...]) }
        guard let first = try next() else {
            throw .malformed(path: source.path, line: 1, reason: "the file is empty: a CSV input needs a header row")
        }
        switch first.content {
        case .cells(let names):
            header = names.map { $0.trimmingCharacters(in: .whitespaces) }
        case .malformed(let reason):
            throw .malformed(path: source.path, line: first.line, reason: "unreadable header row: \(reason)")
        case .object:
            header = []
        }
    }

    /// Picks the delimiter that occurs most often, outside quotes, in the first line.
    static func detectDelimiter(_ bytes: ArraySlice<UInt8>) -> UInt8 {
        var counts: [UInt8: Int] = [UInt8(ascii: ","): 0, UInt8(ascii: ";"): 0, UInt8(ascii: "\t"): 0]
        var quoted = false
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            if !quoted && (byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")) { break }
            if !quoted, counts[byte] != nil { counts[byte, default: 0] += 1 }
        }
        let best = counts.max { lhs, rhs in
            lhs.value != rhs.value ? lhs.value < rhs.value : lhs.key != UInt8(ascii: ",")
        }
        guard let best, best.value > 0 else { return UInt8(ascii: ",") }
        return best.key
    }

    private mutating func fill() throws(InputError) {
        position = 0
        if !(try source.readChunk(into: &chunk)) { atEnd = true }
    }

    private enum State { case fieldStart, unquoted, quoted, afterQuote }

    /// The next record, or nil at the end of the input.
    public mutating func next() throws(InputError) -> RawRecord? {
        var bytes: [UInt8] = []
        var fieldEnds: [Int] = []
        var state = State.fieldStart
        var startLine = line
        var problem: String?
        var started = false
        var quoteLine = line

        func endField() {
            if fieldEnds.count >= maxFields {
                if problem == nil { problem = "the record has more than \(maxFields) cells" }
                return
            }
            fieldEnds.append(bytes.count)
        }

        while true {
            if position >= chunk.count {
                if atEnd { break }
                try fill()
                if atEnd { break }
            }
            let byte = chunk[position]
            position += 1
            if !started {
                if byte == UInt8(ascii: "\n") {
                    line += 1
                    startLine = line
                    continue
                }
                if byte == UInt8(ascii: "\r") { continue }
                started = true
                startLine = line
            }
            switch state {
            case .fieldStart, .unquoted:
                if byte == delimiter {
                    if state == .unquoted, bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
                    endField()
                    state = .fieldStart
                } else if byte == UInt8(ascii: "\n") {
                    if state == .unquoted, bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
                    line += 1
                    endField()
                    return finish(bytes: bytes, fieldEnds: fieldEnds, startLine: startLine, problem: problem)
                } else if byte == UInt8(ascii: "\"") && state == .fieldStart {
                    state = .quoted
                    quoteLine = line
                } else {
                    if byte == UInt8(ascii: "\"") && problem == nil {
                        problem = "a quote inside an unquoted cell (cell \(fieldEnds.count + 1)): quote the whole cell"
                    }
                    append(byte, to: &bytes, problem: &problem)
                    state = .unquoted
                }
            case .quoted:
                if byte == UInt8(ascii: "\"") {
                    state = .afterQuote
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    append(byte, to: &bytes, problem: &problem)
                }
            case .afterQuote:
                if byte == UInt8(ascii: "\"") {
                    append(byte, to: &bytes, problem: &problem)
                    state = .quoted
                } else if byte == delimiter {
                    endField()
                    state = .fieldStart
                } else if byte == UInt8(ascii: "\n") {
                    line += 1
                    endField()
                    return finish(bytes: bytes, fieldEnds: fieldEnds, startLine: startLine, problem: problem)
                } else if byte != UInt8(ascii: "\r") {
                    if problem == nil {
                        problem = "unexpected text after a closing quote (cell \(fieldEnds.count + 1))"
                    }
                    append(byte, to: &bytes, problem: &problem)
                    state = .unquoted
                }
            }
        }
        guard started else { return nil }
        if state == .quoted {
            problem = "a quoted cell opened on line \(quoteLine) is never closed"
        }
        if state == .unquoted, bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        endField()
        return finish(bytes: bytes, fieldEnds: fieldEnds, startLine: startLine, problem: problem)
    }

    private func append(_ byte: UInt8, to bytes: inout [UInt8], problem: inout String?) {
        if bytes.count >= maxRecordBytes {
            if problem == nil || problem?.hasPrefix("the record is larger") == false {
                problem = "the record is larger than \(maxRecordBytes) bytes"
            }
            return
        }
        bytes.append(byte)
    }

    private func finish(bytes: [UInt8], fieldEnds: [Int], startLine: Int, problem: String?) -> RawRecord {
        if let problem { return RawRecord(line: startLine, content: .malformed(problem)) }
        var cells: [String] = []
        cells.reserveCapacity(fieldEnds.count)
        var problem: String?
        bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            for (index, end) in fieldEnds.enumerated() {
                let slice = UnsafeBufferPointer(rebasing: buffer[start..<end])
                if slice.contains(0) {
                    problem = "cell \(index + 1) contains a NUL byte"
                    return
                }
                guard let cell = String(validating: slice, as: UTF8.self) else {
                    problem = "cell \(index + 1) is not valid UTF-8"
                    return
                }
                cells.append(cell)
                start = end
            }
        }
        if let problem { return RawRecord(line: startLine, content: .malformed(problem)) }
        return RawRecord(line: startLine, content: .cells(cells))
    }
}
