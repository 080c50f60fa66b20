import Foundation
import Testing

@testable import VerilockBatch

/// Properties of the streaming transcoder and UTF-8 check, over seeded random text and random
/// chunk boundaries: whatever the chunking, the output is the text, and bytes that are not UTF-8
/// stop at the offset the standard library's own parser finds. `TRANSCODER_SEED` replays a run.
@Suite("Transcoding input while streaming")
struct TranscoderTests {
    static let seed: UInt64 =
        ProcessInfo.processInfo.environment["TRANSCODER_SEED"].flatMap { UInt64($0) }
        ?? 0x7EC0_DE00_2026_1127

    /// Random text: ASCII with separators and line ends, Latin-1 letters, Windows-1252's extra
    /// characters, and (unless `windows1252Only`) CJK and characters outside the BMP, which UTF-16
    /// holds as surrogate pairs.
    static func text(_ generator: inout SplitMix64, windows1252Only: Bool = false) -> String {
        let pools: [[Unicode.Scalar]] = [
            Array("abcXYZ019 ,;\"\t\n\r@.-".unicodeScalars),
            (0xA0...0xFF).compactMap(Unicode.Scalar.init),
            Array("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ".unicodeScalars),
            Array("漢字かなÅ한글".unicodeScalars),
            Array("😀𝄞𐍈🇪".unicodeScalars),
        ]
        let usable = windows1252Only ? Array(pools.prefix(3)) : pools
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...300, using: &generator) {
            let pool = usable[Int.random(in: 0..<usable.count, using: &generator)]
            scalars.append(pool[Int.random(in: 0..<pool.count, using: &generator)])
        }
        return String(scalars)
    }

    /// Feeds `bytes` to a transcoder in random chunks and returns its output.
    static func transcode(
        _ bytes: [UInt8], _ setting: InputEncoding, _ generator: inout SplitMix64
    ) throws(Transcoder.Mismatch) -> [UInt8] {
        var transcoder = Transcoder(setting)
        var output: [UInt8] = []
        var index = 0
        repeat {
            let size = Int.random(in: 0...9, using: &generator) == 0 ? 4096 : Int.random(in: 1...7, using: &generator)
            let end = min(bytes.count, index + size)
            var chunk = Array(bytes[index..<end])
            index = end
            try transcoder.transcode(&chunk, last: index == bytes.count)
            output += chunk
        } while index < bytes.count
        return output
    }

    static func windows1252(_ text: String) -> [UInt8] {
        text.unicodeScalars.map { scalar in
            if scalar.value < 0x80 || (0xA0...0xFF).contains(scalar.value) { return UInt8(scalar.value) }
            // The generator uses only characters of the code page: 0x3F would fail the test.
            let index = InputEncoding.windows1252High.firstIndex(of: scalar.value)
            return index.map { UInt8(0x80 + $0) } ?? 0x3F
        }
    }

    @Test(
        "UTF-8, UTF-16 (either order, with or without a mark) and Windows-1252 text comes out as its UTF-8, whatever the chunks"
    )
    func roundTrip() throws {
        print("transcoder: TRANSCODER_SEED=\(Self.seed)")
        for iteration in 0..<300 {
            var generator = SplitMix64(seed: Self.seed ^ UInt64(iteration) &* 0x9E37_79B9_7F4A_7C15)
            let context: Comment = "TRANSCODER_SEED=\(Self.seed) iteration \(iteration)"
            // A leading "a" keeps random text from starting with NUL-heavy or mark-like bytes.
            let text = "a" + Self.text(&generator)
            let utf8 = Array(text.utf8)
            let units = Array(text.utf16)
            let little = units.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
            let big = units.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
            #expect(try Self.transcode(utf8, .utf8, &generator) == utf8, context)
            #expect(try Self.transcode([0xFF, 0xFE] + little, .utf8, &generator) == utf8, context)
            #expect(try Self.transcode([0xFE, 0xFF] + big, .windows1252, &generator) == utf8, context)
            #expect(try Self.transcode(little, .utf16, &generator) == utf8, context)
            let western = "a" + Self.text(&generator, windows1252Only: true)
            #expect(
                try Self.transcode(Self.windows1252(western), .windows1252, &generator) == Array(western.utf8), context)
        }
    }

    @Test("bytes that are not UTF-8 stop at the offset the standard library's parser finds, whatever the chunks")
    func invalidUTF8() throws {
        print("transcoder: TRANSCODER_SEED=\(Self.seed)")
        var stopped = 0
        for iteration in 0..<2000 {
            var generator = SplitMix64(seed: Self.seed ^ UInt64(iteration) &* 0xD1B5_4A32_D192_ED03)
            let context: Comment = "TRANSCODER_SEED=\(Self.seed) iteration \(iteration)"
            // Valid text with a few bytes changed to random high bytes: cut characters, stray
            // continuations, overlong forms, surrogates, values above U+10FFFF.
            var bytes = Array(("a" + Self.text(&generator)).utf8)
            for _ in 0..<Int.random(in: 0...2, using: &generator) {
                let position = Int.random(in: 1...bytes.count, using: &generator)
                bytes.insert(UInt8.random(in: 0x80...0xFF, using: &generator), at: position)
            }
            var parser = Unicode.UTF8.ForwardParser()
            var iterator = bytes.makeIterator()
            var offset = 0
            var expected: Int?
            parsing: while true {
                switch parser.parseScalar(from: &iterator) {
                case .valid(let encoded): offset += encoded.count
                case .emptyInput: break parsing
                case .error:
                    expected = offset
                    break parsing
                }
            }
            do {
                let output = try Self.transcode(bytes, .utf8, &generator)
                #expect(expected == nil, "read to the end, yet invalid at \(expected ?? -1); \(context)")
                #expect(output == bytes, context)
            } catch {
                stopped += 1
                #expect(error.offset == Int64(expected ?? -1), context)
                #expect(error.likely == .windows1252, context)
            }
        }
        #expect(stopped > 500, "most inputs hold a byte that is not UTF-8; TRANSCODER_SEED=\(Self.seed)")
    }
}
