/// Turns input bytes of an ``InputEncoding`` into UTF-8 while streaming, chunk by chunk: a
/// character, code unit or surrogate pair cut by a chunk boundary waits for the next chunk.
///
/// UTF-8 input is checked, not changed: bytes that are not UTF-8, or a file whose first 4 KiB
/// are a quarter NUL bytes (UTF-16 without a byte-order mark), throw ``Mismatch`` naming the likely
/// encoding. In UTF-16 input, an unpaired surrogate throws ``Mismatch`` too; in Windows-1252,
/// the five undefined bytes become C1 controls, which validation rejects in their row.
struct Transcoder {
    /// Input that is not in the encoding the setting names.
    struct Mismatch: Error, Equatable {
        /// The offset in the file of the first byte that does not fit.
        let offset: Int64
        /// That byte.
        let byte: UInt8
        /// The encoding the bytes around it most likely have.
        let likely: InputEncoding
        /// The encoding they were read as: UTF-8, or UTF-16 (an unpaired surrogate).
        var expected: InputEncoding = .utf8
    }

    private enum Mode { case utf8, utf16(bigEndian: Bool), singleByte(windows1252: Bool) }

    private var mode: Mode?
    private let setting: InputEncoding
    private var leftover: [UInt8] = []
    /// How many bytes of the file decide its mode: the byte-order mark, or NUL bytes that say
    /// UTF-16 without one.
    static let sniffLength = 4096
    /// How many bytes of the file came in so far.
    private var received: Int64 = 0

    init(_ setting: InputEncoding) {
        self.setting = setting
    }

    /// Turns `bytes`, the next chunk of the file (`last`: nothing follows), into UTF-8 in place.
    mutating func transcode(_ bytes: inout [UInt8], last: Bool) throws(Mismatch) {
        let start = received - Int64(leftover.count)
        received += Int64(bytes.count)
        if !leftover.isEmpty {
            bytes = leftover + bytes
            leftover = []
        }
        if mode == nil {
            // The mode is decided on the file's first `sniffLength` bytes (whatever the chunk
            // size), which a small first chunk may not hold.
            if bytes.count < Self.sniffLength && !last {
                leftover = bytes
                bytes = []
                return
            }
            mode = Self.mode(of: bytes, setting: setting)
            if case .utf16 = mode, bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
                bytes.removeFirst(2)
            } else if case .utf8 = mode, UTF8Check.looksLikeUTF16(bytes.prefix(Self.sniffLength)) {
                let nul = bytes.firstIndex(of: 0) ?? 0
                throw Mismatch(offset: start + Int64(nul), byte: 0, likely: .utf16)
            }
        }
        if case .utf8 = mode {
            let verdict = bytes.withUnsafeBufferPointer { UTF8Check.check($0, last: last) }
            switch verdict {
            case .invalid(let offset):
                // Windows-1252: the Western code page spreadsheets write, whose printable
                // characters include all of ISO-8859-1's.
                throw Mismatch(offset: start + Int64(offset), byte: bytes[offset], likely: .windows1252)
            case .valid(let incomplete):
                if incomplete > 0 {
                    leftover = Array(bytes.suffix(incomplete))
                    bytes.removeLast(incomplete)
                }
            }
            return
        }
        bytes = try convert(bytes, last: last, start: start)
    }

    /// The mode for a file that begins with `bytes`: a UTF-16 byte-order mark wins; UTF-16
    /// without one is little-endian unless more of its code units read as ASCII characters
    /// (the delimiters, digits and line ends every input has) in big-endian order.
    private static func mode(of bytes: [UInt8], setting: InputEncoding) -> Mode {
        if bytes.starts(with: [0xFF, 0xFE]) { return .utf16(bigEndian: false) }
        if bytes.starts(with: [0xFE, 0xFF]) { return .utf16(bigEndian: true) }
        switch setting {
        case .utf8: return .utf8
        case .utf16:
            let sample = Array(bytes.prefix(sniffLength))
            let ascii: ClosedRange<UInt8> = 0x09...0x7E
            var little = 0
            var big = 0
            for index in stride(from: 0, to: sample.count - 1, by: 2) {
                if sample[index + 1] == 0, ascii.contains(sample[index]) { little += 1 }
                if sample[index] == 0, ascii.contains(sample[index + 1]) { big += 1 }
            }
            return .utf16(bigEndian: big > little)
        case .windows1252: return .singleByte(windows1252: true)
        case .iso88591: return .singleByte(windows1252: false)
        }
    }

    /// UTF-8 for `bytes` (which begin at offset `start` of the file) in a UTF-16 or single-byte
    /// mode.
    private mutating func convert(_ bytes: [UInt8], last: Bool, start: Int64) throws(Mismatch) -> [UInt8] {
        let input = bytes
        switch mode {
        case .utf16(let bigEndian)?:
            var units: [UInt16] = []
            units.reserveCapacity(input.count / 2)
            var index = 0
            while index + 1 < input.count {
                let unit =
                    bigEndian
                    ? UInt16(input[index]) << 8 | UInt16(input[index + 1])
                    : UInt16(input[index + 1]) << 8 | UInt16(input[index])
                units.append(unit)
                index += 2
            }
            if last, index < input.count {
                // Half a code unit: the file was cut.
                throw Mismatch(offset: start + Int64(index), byte: input[index], likely: .utf16, expected: .utf16)
            }
            if !last {
                leftover = Array(input[index...])
                if let final = units.last, (0xD800...0xDBFF).contains(final) {
                    units.removeLast()
                    leftover = [input[index - 2], input[index - 1]] + leftover
                }
            }
            var position = 0
            while position < units.count {
                let unit = units[position]
                let paired =
                    (0xD800...0xDBFF).contains(unit) && position + 1 < units.count
                    && (0xDC00...0xDFFF).contains(units[position + 1])
                if paired {
                    position += 2
                    continue
                }
                if (0xD800...0xDFFF).contains(unit) {
                    throw Mismatch(
                        offset: start + Int64(2 * position), byte: UInt8(unit >> 8), likely: .utf16, expected: .utf16)
                }
                position += 1
            }
            return Array(String(decoding: units, as: UTF16.self).utf8)
        case .singleByte(let windows1252)?:
            var scalars = String.UnicodeScalarView()
            for byte in input {
                var value = UInt32(byte)
                if windows1252, (0x80...0x9F).contains(byte) {
                    // The five bytes the code page leaves undefined become the C1 control of the
                    // same number (as the WHATWG decoder does), which validation rejects.
                    let mapped = InputEncoding.windows1252High[Int(byte) - 0x80]
                    value = mapped == 0 ? UInt32(byte) : mapped
                }
                scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            }
            return Array(String(scalars).utf8)
        case .utf8?, nil:
            return input
        }
    }
}
