import Foundation

/// Reads a file (or standard input) in fixed-size chunks, so memory does not grow with the file.
public final class ByteChunkReader {
    /// The name used in messages: the path, or `-` for standard input.
    public let path: String
    /// The file's size in bytes when known (not for standard input or pipes).
    public let size: Int64?
    /// How many bytes were read so far.
    public private(set) var bytesRead: Int64 = 0

    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let chunkSize: Int
    private var transcoder: Transcoder
    private var hash = SHA256()

    /// Opens `path` for reading; `-` means standard input. Chunks come out as UTF-8: a file in
    /// another `encoding` (or with a UTF-16 byte-order mark) is transcoded as it streams, and a
    /// UTF-8 file is checked as it streams: bytes that are not UTF-8 throw
    /// ``InputError/wrongEncoding(path:line:byte:likely:)``.
    public init(path: String, chunkSize: Int = 1 << 20, encoding: InputEncoding = .utf8) throws(InputError) {
        self.path = path
        self.chunkSize = chunkSize
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
            let more = try readRawChunk(into: &buffer)
            do {
                try transcoder.transcode(&buffer, last: !more)
            } catch {
                if error.expected == .utf16 { throw .invalidUTF16(path: path, offset: error.offset) }
                throw .wrongEncoding(
                    path: path, line: Self.line(at: error.offset, in: path), byte: error.byte, likely: error.likely)
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
    /// file at `path`, read again from its start; nil for standard input, which cannot be.
    static func line(at offset: Int64, in path: String) -> Int? {
        guard path != "-", let reader = try? ByteChunkReader(path: path, encoding: .iso88591) else { return nil }
        var line = 1
        var remaining = offset
        var previous: UInt8 = 0
        var chunk: [UInt8] = []
        while remaining > 0, (try? reader.readRawChunk(into: &chunk)) == true {
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

    private func readRawChunk(into buffer: inout [UInt8]) throws(InputError) -> Bool {
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
