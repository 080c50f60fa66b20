import Foundation

/// The output rows of a run's existing rows (nearly all of a nightly rerun), kept outside the
/// ledger until the output file is written: a private file beside the ledger, unlinked as soon
/// as it is made, so it vanishes with the process whatever happens.
///
/// Rows go in in input order and come out in the same order, to be merged with the rows the
/// ledger holds (``Ledger/forEachOutputRow(runID:spool:_:)``).
public final class OutputSpool: @unchecked Sendable {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var written: Int64 = 0
    /// How many rows it holds.
    public private(set) var count = 0

    /// Makes the spool beside `ledgerPath`.
    public init(besideLedger ledgerPath: String) throws(FileWriteError) {
        let directory = PathName.parent(of: ledgerPath)
        let name =
            "." + PathName.lastComponent(of: ledgerPath) + ".spool-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let path = directory.isEmpty ? name : directory == "/" ? "/" + name : directory + "/" + name
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw FileWriteError(path: path, reason: String(cString: strerror(errno))) }
        unlink(path)
        descriptor = fd
        buffer.reserveCapacity(1 << 16)
    }

    deinit { close(descriptor) }

    /// Appends a row.
    public func append(_ row: OutputRow) throws(FileWriteError) {
        Self.put(UInt64(bitPattern: row.seq), to: &buffer)
        Self.put(UInt64(row.fileIndex), to: &buffer)
        Self.put(UInt64(row.line), to: &buffer)
        for text in [row.externalID, row.email, row.name, row.sessionID, row.sessionURL, row.expiresAt, row.record] {
            Self.put(text, to: &buffer)
        }
        count += 1
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Writes what is buffered.
    public func flush() throws(FileWriteError) {
        var offset = 0
        while offset < buffer.count {
            let result = buffer.withUnsafeBytes { bytes in
                pwrite(descriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset, off_t(written))
            }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else {
                throw FileWriteError(path: "(output spool)", reason: String(cString: strerror(errno)))
            }
            offset += result
            written += Int64(result)
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with every row, in the order they were appended.
    public func forEach(_ body: (OutputRow) throws -> Void) throws {
        try flush()
        var reader = Reader(descriptor: descriptor, end: written)
        while let row = try reader.next() { try body(row) }
    }

    /// Reads the rows back, in order.
    struct Reader {
        let descriptor: Int32
        let end: Int64
        private var offset: Int64 = 0
        private var chunk: [UInt8] = []
        private var position = 0

        init(descriptor: Int32, end: Int64) {
            self.descriptor = descriptor
            self.end = end
        }

        mutating func next() throws -> OutputRow? {
            guard try available(8) else { return nil }
            let seq = Int64(bitPattern: try number())
            let fileIndex = Int(try number())
            let line = Int(try number())
            var texts: [String?] = []
            for _ in 0..<7 { texts.append(try text()) }
            var row = OutputRow(
                fileIndex: fileIndex, line: line, externalID: texts[0] ?? "", email: texts[1], name: texts[2],
                sessionID: texts[3] ?? "", sessionURL: texts[4] ?? "", expiresAt: texts[5], status: "existing",
                record: texts[6])
            row.seq = seq
            row.isNew = false
            return row
        }

        /// Whether `count` more bytes can be had (reading the next chunk if needed).
        private mutating func available(_ count: Int) throws -> Bool {
            if chunk.count - position >= count { return true }
            guard offset < end else { return chunk.count - position >= count }
            let wanted = max(1 << 16, count)
            var more = [UInt8](repeating: 0, count: Int(min(Int64(wanted), end - offset)))
            let read = more.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
            guard read > 0 else {
                throw FileWriteError(path: "(output spool)", reason: String(cString: strerror(errno)))
            }
            more.removeSubrange(read...)
            offset += Int64(read)
            chunk = Array(chunk[position...]) + more
            position = 0
            if chunk.count >= count { return true }
            return try available(count)
        }

        private mutating func number() throws -> UInt64 {
            guard try available(8) else { throw FileWriteError(path: "(output spool)", reason: "truncated") }
            var value: UInt64 = 0
            for index in 0..<8 { value |= UInt64(chunk[position + index]) << (8 * index) }
            position += 8
            return value
        }

        private mutating func text() throws -> String? {
            let length = try number()
            guard length != UInt64.max else { return nil }
            guard try available(Int(length)) else {
                throw FileWriteError(path: "(output spool)", reason: "truncated")
            }
            let value = String(decoding: chunk[position..<position + Int(length)], as: UTF8.self)
            position += Int(length)
            return value
        }
    }

    private static func put(_ value: UInt64, to buffer: inout [UInt8]) {
        for index in 0..<8 { buffer.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }

    private static func put(_ text: String?, to buffer: inout [UInt8]) {
        guard var text else {
            put(UInt64.max, to: &buffer)
            return
        }
        text.withUTF8 { bytes in
            put(UInt64(bytes.count), to: &buffer)
            buffer.append(contentsOf: bytes)
        }
    }
}
