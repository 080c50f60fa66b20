/// Checks bytes for well-formed UTF-8 (Unicode's table 3-7: no overlong forms, no surrogates,
/// nothing above U+10FFFF), one chunk of a stream at a time.
enum UTF8Check {
    /// What a chunk holds.
    enum Verdict: Equatable {
        /// Every byte is UTF-8; the last `incomplete` bytes begin a character that the next
        /// chunk completes.
        case valid(incomplete: Int)
        /// The byte at `offset` does not start a UTF-8 character, or the bytes after it do not
        /// complete the one it starts.
        case invalid(offset: Int)
    }

    /// Checks `bytes`; `last` says no chunk follows, so a character cut at the end is invalid.
    static func check(_ bytes: UnsafeBufferPointer<UInt8>, last: Bool) -> Verdict {
        guard let base = bytes.baseAddress else { return .valid(incomplete: 0) }
        let count = bytes.count
        var index = 0
        while index < count {
            // Eight ASCII bytes at a time: by far the most common case.
            if index + 8 <= count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 == 0 {
                    index += 8
                    continue
                }
            }
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0:
                length = 3
                low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED:
                length = 3
                high = 0x9F
            case 0xF0:
                length = 4
                low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4:
                length = 4
                high = 0x8F
            default: return .invalid(offset: index)
            }
            // The second byte has the lead's own range; the others are plain continuations.
            for step in 1..<length {
                let position = index + step
                guard position < count else {
                    return last ? .invalid(offset: index) : .valid(incomplete: count - index)
                }
                let byte = bytes[position]
                let range: ClosedRange<UInt8> = step == 1 ? low...high : 0x80...0xBF
                guard range.contains(byte) else { return .invalid(offset: index) }
            }
            index += length
        }
        return .valid(incomplete: 0)
    }

    /// Whether a quarter or more of `sample` is NUL bytes, as in ASCII text in UTF-16.
    static func looksLikeUTF16(_ sample: some Collection<UInt8>) -> Bool {
        let nuls = sample.reduce(0) { $1 == 0 ? $0 + 1 : $0 }
        return sample.count >= 4 && nuls * 4 >= sample.count
    }
}
