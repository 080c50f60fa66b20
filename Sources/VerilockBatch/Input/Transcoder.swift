/// Turns input bytes of an ``InputEncoding`` into UTF-8 while streaming, chunk by chunk: a code
/// unit or surrogate pair cut by a chunk boundary waits for the next chunk. Invalid sequences
/// become U+FFFD, which validation then rejects in the row that holds them.
struct Transcoder {
    private enum Mode { case utf8, utf16(bigEndian: Bool), singleByte(windows1252: Bool) }

    private var mode: Mode?
    private let setting: InputEncoding
    private var leftover: [UInt8] = []

    init(_ setting: InputEncoding) {
        self.setting = setting
    }

    /// Whether the bytes pass through untouched (UTF-8 without a UTF-16 mark).
    var isPassThrough: Bool {
        if case .utf8? = mode { return true }
        return false
    }

    /// UTF-8 for `bytes`, the next chunk of the file (`last`: nothing follows).
    mutating func transcode(_ bytes: [UInt8], last: Bool) -> [UInt8] {
        var input = bytes
        if mode == nil {
            // The mark needs two bytes, which a tiny first chunk may not hold.
            input = leftover + input
            leftover = []
            if input.count < 2 && !last {
                leftover = input
                return []
            }
            if input.starts(with: [0xFF, 0xFE]) {
                mode = .utf16(bigEndian: false)
                input.removeFirst(2)
            } else if input.starts(with: [0xFE, 0xFF]) {
                mode = .utf16(bigEndian: true)
                input.removeFirst(2)
            } else {
                switch setting {
                case .utf8: mode = .utf8
                case .utf16: mode = .utf16(bigEndian: false)
                case .windows1252: mode = .singleByte(windows1252: true)
                case .iso88591: mode = .singleByte(windows1252: false)
                }
            }
        }
        switch mode {
        case .utf16(let bigEndian)?:
            input = leftover + input
            leftover = []
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
            if !last {
                leftover = Array(input[index...])
                if let final = units.last, (0xD800...0xDBFF).contains(final) {
                    units.removeLast()
                    leftover = [input[index - 2], input[index - 1]] + leftover
                }
            }
            return Array(String(decoding: units, as: UTF16.self).utf8)
        case .singleByte(let windows1252)?:
            var scalars = String.UnicodeScalarView()
            for byte in input {
                var value = UInt32(byte)
                if windows1252, (0x80...0x9F).contains(byte) {
                    let mapped = InputEncoding.windows1252High[Int(byte) - 0x80]
                    value = mapped == 0 ? 0xFFFD : mapped
                }
                scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            }
            return Array(String(scalars).utf8)
        case .utf8?, nil:
            return input
        }
    }
}
