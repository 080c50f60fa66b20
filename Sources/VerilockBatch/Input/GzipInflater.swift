import CZlib

/// Inflates a gzip stream as it is read, with zlib: one member, or several in a row (as
/// `cat a.gz b.gz`, bgzip and some exporters write them), optionally followed by zero bytes of
/// padding (as tape and block devices leave, and gzip(1) accepts).
final class GzipInflater {
    /// What one step did.
    struct Step {
        /// Compressed bytes consumed.
        var consumed: Int
        /// Bytes written out.
        var produced: Int
    }

    /// Why inflating stopped; `consumed` counts the bytes of the step's input read before.
    enum Failure: Error {
        /// The compressed data is damaged; zlib's words.
        case corrupt(String, consumed: Int)
        /// Bytes follow the last member that neither start another member nor are zero padding.
        case trailingData(consumed: Int)
    }

    private let stream: UnsafeMutablePointer<z_stream>
    /// Whether the data so far ends exactly at the end of a member (or in its zero padding).
    private(set) var atMemberEnd = false
    /// Whether zero bytes of padding follow the last member.
    private var padding = false

    /// A fresh inflater for gzip members (zlib's window bits 15, plus 16 for the gzip wrapper);
    /// nil when zlib cannot start one (out of memory).
    init?() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let result = inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard result == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            return nil
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Inflates from `input` into `output` until either is used up or a member ends. At a
    /// member's end, the next call starts the next member.
    func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(Failure) -> Step {
        guard let inputAddress = input.baseAddress, let outputAddress = output.baseAddress, !input.isEmpty,
            !output.isEmpty
        else { return Step(consumed: 0, produced: 0) }
        if atMemberEnd {
            // After a member: another one (gzip's magic), or zero padding up to the end.
            if padding || input[0] == 0 {
                padding = true
                if let other = input.firstIndex(where: { $0 != 0 }) { throw .trailingData(consumed: other) }
                return Step(consumed: input.count, produced: 0)
            }
            guard input[0] == InputCompression.gzipMagic[0],
                input.count < 2 || input[1] == InputCompression.gzipMagic[1]
            else { throw .trailingData(consumed: 0) }
            inflateReset(stream)
            atMemberEnd = false
        }
        let inputBase = UnsafeMutablePointer(mutating: inputAddress.assumingMemoryBound(to: Bytef.self))
        let outputBase = outputAddress.assumingMemoryBound(to: Bytef.self)
        stream.pointee.next_in = inputBase
        stream.pointee.avail_in = uInt(min(input.count, Int(UInt32.max)))
        stream.pointee.next_out = outputBase
        stream.pointee.avail_out = uInt(min(output.count, Int(UInt32.max)))
        let result = CZlib.inflate(stream, Z_NO_FLUSH)
        let step = Step(
            consumed: stream.pointee.next_in - inputBase, produced: stream.pointee.next_out - outputBase)
        switch result {
        case Z_OK, Z_BUF_ERROR:
            return step
        case Z_STREAM_END:
            atMemberEnd = true
            return step
        default:
            let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(result)"
            throw .corrupt(message, consumed: step.consumed)
        }
    }
}
