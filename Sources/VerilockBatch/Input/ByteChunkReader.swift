import Foundation

/// Reads a file (or standard input) in fixed-size chunks, so memory does not grow with the file;
/// a gzip file is inflated as it streams.
public final class ByteChunkReader {
    /// The name used in messages: the path, or `-` for standard input.
    public let path: String
    /// The file's size in bytes when known (not for standard input or pipes).
    public let size: Int64?
    /// How many bytes of the file were read so far (compressed bytes, for a gzip file).
    public private(set) var bytesRead: Int64 = 0

    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let chunkSize: Int
    private let compression: InputCompression
    private var transcoder: Transcoder
    private var hash = SHA256()
    /// The inflater, once the first bytes showed a gzip file.
    private var inflater: GzipInflater?
    /// Whether the first bytes were looked at to decide on gzip.
    private var sniffed = false
    /// File bytes read but not yet inflated (or, before sniffing, not yet handed out).
    private var pending: [UInt8] = []
    private var pendingStart = 0
    private var fileEnded = false
    /// Whether the first inflated bytes were looked at (a file compressed twice is refused).
    private var checkedInner = false

    /// Opens `path` for reading; `-` means standard input. Chunks come out as UTF-8: a file in
    /// another `encoding` (or with a UTF-16 byte-order mark) is transcoded as it streams, and a
    /// UTF-8 file is checked as it streams: bytes that are not UTF-8 throw
    /// ``InputError/wrongEncoding(path:line:byte:likely:)``. A gzip file (by `compression`) is
    /// inflated before that.
    public init(
        path: String, chunkSize: Int = 1 << 20, encoding: InputEncoding = .utf8, compression: InputCompression = .auto
    ) throws(InputError) {
        self.path = path
        self.chunkSize = chunkSize
        self.compression = compression
        self.transcoder = Transcoder(encoding)
        if path == "-" {
            descriptor = STDIN_FILENO
            ownsDescriptor = false
            size = nil
            return
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw .missing(path: path) }
            throw .unreadable(path: path, reason: String(cString: strerror(code)))
        }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw .unreadable(path: path, reason: "it is a directory")
        }
        descriptor = fd
        ownsDescriptor = true
        size = (info.st_mode & S_IFMT) == S_IFREG ? Int64(info.st_size) : nil
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
    }

    /// Reads the next chunk into `buffer` (replacing its contents), as UTF-8; false at the end of
    /// the file.
    public func readChunk(into buffer: inout [UInt8]) throws(InputError) -> Bool {
        while true {
            let more = try readDecompressedChunk(into: &buffer)
            do {
                try transcoder.transcode(&buffer, last: !more)
            } catch {
                if error.expected == .utf16 { throw .invalidUTF16(path: path, offset: error.offset) }
                throw .wrongEncoding(
                    path: path, line: Self.line(at: error.offset, in: path, compression: compression), byte: error.byte,
                    likely: error.likely)
            }
            if !buffer.isEmpty || !more { return !buffer.isEmpty || more }
        }
    }

    /// The SHA-256 of the bytes read so far, as they are in the file (before transcoding), in
    /// hex: once the file is read to its end, the file's digest.
    public func sha256() -> String {
        hash.finalizeHex()
    }

    /// The line (counting LF, CRLF and bare-CR line ends) that holds the byte at `offset` of the
    /// file at `path` (of its text, inflated if it is gzip), read again from its start; nil for
    /// standard input, which cannot be.
    static func line(at offset: Int64, in path: String, compression: InputCompression) -> Int? {
        guard path != "-",
            let reader = try? ByteChunkReader(path: path, encoding: .iso88591, compression: compression)
        else { return nil }
        var line = 1
        var remaining = offset
        var previous: UInt8 = 0
        var chunk: [UInt8] = []
        while remaining > 0, (try? reader.readDecompressedChunk(into: &chunk)) == true {
            for byte in chunk.prefix(Int(min(remaining, Int64(chunk.count)))) {
                if byte == UInt8(ascii: "\n") && previous != UInt8(ascii: "\r") || byte == UInt8(ascii: "\r") {
                    line += 1
                }
                previous = byte
            }
            remaining -= Int64(chunk.count)
        }
        return line
    }

    /// The file's next bytes, inflated if it is gzip; false at the end.
    private func readDecompressedChunk(into buffer: inout [UInt8]) throws(InputError) -> Bool {
        if !sniffed { try sniff() }
        guard let inflater else {
            if pendingStart < pending.count {
                buffer = Array(pending[pendingStart...])
                pending = []
                pendingStart = 0
                return true
            }
            return try readFileChunk(into: &buffer)
        }
        var output = [UInt8](repeating: 0, count: chunkSize)
        var filled = 0
        while filled < chunkSize {
            if pendingStart == pending.count {
                if fileEnded { break }
                pendingStart = 0
                if !(try readFileChunk(into: &pending)) {
                    fileEnded = true
                    break
                }
            }
            let start = pendingStart
            let offset = filled
            let result = pending.withUnsafeBytes { input in
                output.withUnsafeMutableBytes { out in
                    Result { () throws(GzipInflater.Failure) in
                        try inflater.inflate(
                            UnsafeRawBufferPointer(rebasing: input[start...]),
                            into: UnsafeMutableRawBufferPointer(rebasing: out[offset...]))
                    }
                }
            }
            let step: GzipInflater.Step
            switch result {
            case .success(let done):
                step = done
            case .failure(let failure):
                let stepStart = bytesRead - Int64(pending.count - start)
                switch failure {
                case .corrupt(let reason, let consumed):
                    throw .corruptCompressed(path: path, offset: stepStart + Int64(consumed), reason: reason)
                case .trailingData(let consumed):
                    throw .corruptCompressed(
                        path: path, offset: stepStart + Int64(consumed),
                        reason: "bytes after the end of the gzip data are not gzip")
                }
            }
            pendingStart += step.consumed
            filled += step.produced
        }
        if fileEnded && filled == 0 && !inflater.atMemberEnd {
            throw .truncatedCompressed(path: path)
        }
        if !checkedInner && filled >= InputCompression.gzipMagic.count {
            checkedInner = true
            if output.starts(with: InputCompression.gzipMagic) {
                throw .malformed(
                    path: path, line: 1,
                    reason: "the inflated file is gzip again (compressed twice?): gunzip it once before")
            }
        }
        output.removeLast(chunkSize - filled)
        buffer = output
        return filled > 0 || !fileEnded
    }

    /// Reads the file's first bytes and decides, by `compression`, the name and gzip's magic
    /// number, whether to inflate it.
    private func sniff() throws(InputError) {
        sniffed = true
        var chunk: [UInt8] = []
        while pending.count < InputCompression.gzipMagic.count, try readFileChunk(into: &chunk) {
            pending += chunk
        }
        let magic = pending.starts(with: InputCompression.gzipMagic)
        // Fewer bytes than the magic number in a file that should be gzip: cut short.
        let short = pending.count < InputCompression.gzipMagic.count
        switch compression {
        case .plain:
            // No text starts with these bytes (0x1F is a control character).
            guard !magic else {
                throw .malformed(
                    path: path, line: 1,
                    reason: "the file starts as gzip does, but input.compression is none: set it to auto or gzip")
            }
            return
        case .gzip:
            if short { throw .truncatedCompressed(path: path) }
            guard magic else { throw .notCompressed(path: path, reason: "input.compression is gzip") }
        case .auto:
            if InputCompression.isGzipName(path) && short { throw .truncatedCompressed(path: path) }
            if InputCompression.isGzipName(path) && !magic {
                throw .notCompressed(path: path, reason: "its name ends in .gz")
            }
            guard magic else { return }
        }
        guard let started = GzipInflater() else {
            throw .unreadable(path: path, reason: "zlib could not start inflating (out of memory)")
        }
        inflater = started
    }

    /// The file's next bytes as they are on disk (counted and hashed); false at its end.
    private func readFileChunk(into buffer: inout [UInt8]) throws(InputError) -> Bool {
        var failure: Int32 = 0
        let descriptor = self.descriptor
        let count = chunkSize
        buffer = [UInt8](unsafeUninitializedCapacity: count) { raw, initialized in
            initialized = 0
            while true {
                let result = read(descriptor, raw.baseAddress, count)
                if result < 0 && errno == EINTR { continue }
                if result < 0 { failure = errno } else { initialized = result }
                return
            }
        }
        if failure != 0 {
            throw .unreadable(path: path, reason: String(cString: strerror(failure)))
        }
        bytesRead += Int64(buffer.count)
        buffer.withUnsafeBytes { hash.update($0) }
        return !buffer.isEmpty
    }
}
