import Foundation

/// A streaming RFC 4180 reader working on bytes.
///
/// It handles quoted fields, doubled quotes, newlines inside quotes, CRLF, LF or bare-CR line
/// ends (the header line's ending decides; classic Mac and some spreadsheet exports use CR) and
/// a UTF-8 byte-order mark; blank lines are skipped. In an LF or CRLF file, a bare CR inside an
/// unquoted cell makes the record malformed, and in a CR file so does a bare LF: neither is
/// ever a silent line break or truncation. The delimiter (`,`, `;` or tab) is taken from
/// the header line when not given. Each record carries the physical line where it starts. A
/// record that breaks the format (a stray quote, an unterminated quote, a NUL byte, more than
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
    /// Lines end with a bare CR (detected from the header line).
    private var crLineEnds = false
    /// Cells in the last record read (room reserved for the next).
    private var lastCellCount = 8
    /// The last byte was a CR that ended a line: an LF right after it belongs to that line end.
    private var afterLineEndCR = false

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
        // The header line decides the line ends: read on until it has ended (or the limit).
        while !atEnd, !chunk.contains(UInt8(ascii: "\n")), chunk.count < maxRecordBytes {
            var more: [UInt8] = []
            if !(try source.readChunk(into: &more)) { atEnd = true }
            chunk += more
        }
        if chunk.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        if delimiter == nil { self.delimiter = Self.detectDelimiter(chunk[position...]) }
        crLineEnds = Self.endsLinesWithCR(chunk[position...])
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

    /// Whether the first line (outside quotes) ends with a CR not followed by an LF.
    static func endsLinesWithCR(_ bytes: ArraySlice<UInt8>) -> Bool {
        var quoted = false
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            if !quoted && byte == UInt8(ascii: "\n") { return false }
            if !quoted && byte == UInt8(ascii: "\r") {
                let next = bytes.index(after: index)
                return next < bytes.endIndex && bytes[next] != UInt8(ascii: "\n")
            }
            index = bytes.index(after: index)
        }
        return false
    }

    private mutating func fill() throws(InputError) {
        position = 0
        if !(try source.readChunk(into: &chunk)) { atEnd = true }
    }

    private enum State { case fieldStart, unquoted, quoted, afterQuote }

    /// The next record, or nil at the end of the input.
    public mutating func next() throws(InputError) -> RawRecord? {
        if !crLineEnds && !afterLineEndCR, let record = plainRecord() { return record }
        return try parseRecord()
    }

    /// The next record when it is a plain line, as nearly every line is: whole in the chunk,
    /// ending with LF or CRLF, holding no quote, CR or NUL, valid UTF-8, within the limits. Its
    /// cells are made straight from the chunk; any other line is left to ``parseRecord()``,
    /// which reads it byte by byte (and would read a plain line to the same cells).
    private mutating func plainRecord() -> RawRecord? {
        let start = position
        let delimiter = self.delimiter
        let found: (cells: [String], next: Int)? = chunk.withUnsafeBufferPointer { buffer in
            guard start < buffer.count, let base = buffer.baseAddress,
                let newline = memchr(base + start, 0x0A, buffer.count - start)
            else { return nil }
            let lineFeed = base.distance(to: newline.assumingMemoryBound(to: UInt8.self))
            var end = lineFeed
            if end > start && buffer[end - 1] == 0x0D { end -= 1 }
            guard end > start, end - start <= maxRecordBytes else { return nil }
            var cells: [String] = []
            cells.reserveCapacity(lastCellCount)
            var cellStart = start
            var index = start
            while index <= end {
                let byte = index < end ? buffer[index] : delimiter
                if byte == delimiter {
                    guard cells.count < maxFields,
                        let cell = String(
                            validating: UnsafeBufferPointer(rebasing: buffer[cellStart..<index]), as: UTF8.self)
                    else { return nil }
                    cells.append(cell)
                    cellStart = index + 1
                } else if byte == UInt8(ascii: "\"") || byte == 0x0D || byte == 0 {
                    return nil
                }
                index += 1
            }
            return (cells, lineFeed + 1)
        }
        guard let found else { return nil }
        position = found.next
        let record = RawRecord(line: line, content: .cells(found.cells))
        line += 1
        lastCellCount = found.cells.count
        return record
    }

    /// The next record, read byte by byte: every case the format allows, and every way to break it.
    private mutating func parseRecord() throws(InputError) -> RawRecord? {
        var bytes: [UInt8] = []
        var fieldEnds: [Int] = []
        var state = State.fieldStart
        var startLine = line
        var problem: String?
        var started = false
        var quoteLine = line
        // An LF or CRLF file: a CR in an unquoted cell, waiting to see whether an LF follows.
        var pendingCR = false

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
            if afterLineEndCR {
                afterLineEndCR = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            if !started {
                if byte == UInt8(ascii: "\n") || (crLineEnds && byte == UInt8(ascii: "\r")) {
                    line += 1
                    startLine = line
                    afterLineEndCR = byte == UInt8(ascii: "\r")
                    continue
                }
                if byte == UInt8(ascii: "\r") { continue }
                started = true
                startLine = line
            }
            let lineEnd = crLineEnds ? byte == UInt8(ascii: "\r") : byte == UInt8(ascii: "\n")
            if pendingCR {
                pendingCR = false
                if !lineEnd && problem == nil {
                    problem =
                        "a carriage return inside cell \(fieldEnds.count + 1) (a bare CR in a file whose lines end "
                        + "with LF): remove it or quote the cell"
                }
            }
            switch state {
            case .fieldStart, .unquoted:
                if byte == delimiter {
                    endField()
                    state = .fieldStart
                } else if lineEnd {
                    line += 1
                    afterLineEndCR = byte == UInt8(ascii: "\r")
                    endField()
                    return finish(bytes: bytes, fieldEnds: fieldEnds, startLine: startLine, problem: problem)
                } else if byte == UInt8(ascii: "\r") {
                    pendingCR = true
                    if state == .fieldStart { state = .unquoted }
                } else if byte == UInt8(ascii: "\n") {
                    // A CR file: a bare LF inside a record is a line break to some programs and
                    // not to others, so the record is refused rather than split or joined.
                    line += 1
                    if problem == nil {
                        problem =
                            "a line feed inside cell \(fieldEnds.count + 1) (a bare LF in a file whose lines end "
                            + "with CR): remove it or quote the cell"
                    }
                    state = .unquoted
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
                    if byte == UInt8(ascii: "\n") || (crLineEnds && byte == UInt8(ascii: "\r")) { line += 1 }
                    append(byte, to: &bytes, problem: &problem)
                }
            case .afterQuote:
                if byte == UInt8(ascii: "\"") {
                    append(byte, to: &bytes, problem: &problem)
                    state = .quoted
                } else if byte == delimiter {
                    endField()
                    state = .fieldStart
                } else if lineEnd {
                    line += 1
                    afterLineEndCR = byte == UInt8(ascii: "\r")
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
