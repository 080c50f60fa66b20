import Foundation

/// The output lines of a run's existing rows (nearly all of a nightly rerun), kept outside the
/// ledger until the output file is written: a private file beside the ledger file (beside the
/// output for a database ledger), unlinked as soon as it is made, so it vanishes with the
/// process whatever happens.
///
/// Each row is formatted as it goes in (``OutputLineFormat``); during a run that happens on
/// the thread of its ``SpoolWriter``, while the input is still being read. The spool keeps each
/// line's place in the input order (`seq`) and its bytes; writing the output then merges these
/// lines, in order, with the rows the ledger holds (``ResultFiles``).
public final class OutputSpool: @unchecked Sendable {
    private let descriptor: Int32
    private let lines: OutputLineFormat
    private var buffer: [UInt8] = []
    private var written: Int64 = 0
    /// How many rows it holds.
    public private(set) var count = 0

    /// Makes the spool beside the file at `path`, for lines written as `lines`.
    public init(beside path: String, lines: OutputLineFormat) throws(FileWriteError) {
        // Beside the output, its folder may not be there yet.
        try? PrivateFiles.makeParentDirectories(of: path)
        let directory = PathName.parent(of: path)
        let name =
            "." + PathName.lastComponent(of: path) + ".spool-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let path = directory.isEmpty ? name : directory == "/" ? "/" + name : directory + "/" + name
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw FileWriteError(path: path, reason: String(cString: strerror(errno))) }
        unlink(path)
        descriptor = fd
        self.lines = lines
        buffer.reserveCapacity(1 << 17)
    }

    deinit { close(descriptor) }

    /// Appends a row, formatted.
    public func append(_ row: OutputRow) throws(FileWriteError) {
        let header = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: 12))
        lines.append(row, to: &buffer)
        let length = UInt32(buffer.count - header - 12)
        buffer.withUnsafeMutableBytes { bytes in
            bytes.storeBytes(of: UInt64(bitPattern: row.seq).littleEndian, toByteOffset: header, as: UInt64.self)
            bytes.storeBytes(of: length.littleEndian, toByteOffset: header + 8, as: UInt32.self)
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

    /// A reader of the lines, in the order they were appended.
    func reader() throws(FileWriteError) -> Reader {
        try flush()
        return Reader(descriptor: descriptor, end: written)
    }

    /// Reads the lines back, in order.
    struct Reader {
        let descriptor: Int32
        let end: Int64
        private var offset: Int64 = 0
        private var chunk: [UInt8] = []
        private var position = 0
        /// The place in the input order of the next line, nil after the last.
        private(set) var nextSeq: Int64?

        init(descriptor: Int32, end: Int64) {
            self.descriptor = descriptor
            self.end = end
        }

        /// Reads the next line's place; call before the first ``appendLine(to:)``.
        mutating func start() throws(FileWriteError) {
            nextSeq = try available(12) ? Int64(bitPattern: number(8)) : nil
        }

        /// Appends the next line's bytes to `out`, and reads the place of the one after.
        mutating func appendLine(to out: inout [UInt8]) throws(FileWriteError) {
            guard nextSeq != nil else { return }
            let length = Int(number(4))
            guard try available(length) else { throw FileWriteError(path: "(output spool)", reason: "truncated") }
            out.append(contentsOf: chunk[position..<position + length])
            position += length
            nextSeq = try available(12) ? Int64(bitPattern: number(8)) : nil
        }

        /// Whether `count` more bytes can be had (reading the next chunk if needed).
        private mutating func available(_ count: Int) throws(FileWriteError) -> Bool {
            if chunk.count - position >= count { return true }
            guard offset < end else { return chunk.count - position >= count }
            let wanted = max(1 << 20, count)
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

        /// A little-endian number of `size` bytes (8 or 4), known to be available.
        private mutating func number(_ size: Int) -> UInt64 {
            var value: UInt64 = 0
            for index in 0..<size { value |= UInt64(chunk[position + index]) << (8 * index) }
            position += size
            return value
        }
    }
}
