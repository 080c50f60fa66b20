import Foundation
import Testing

@testable import VerilockBatch

/// Properties of the strict JSON parser over seeded random values and their mutations:
/// a value's canonical bytes parse back to it; whatever the parser accepts, Foundation's parser
/// accepts too, with the same strings and structure; whatever it refuses is refused with a byte
/// position inside the text. `JSON_SEED` replays a run.
@Suite("Strict JSON parser")
struct StrictJSONParserTests {
    static let seed: UInt64 =
        ProcessInfo.processInfo.environment["JSON_SEED"].flatMap { UInt64($0) } ?? 0x150A_2026_1127_0001

    /// A random value, at most `depth` levels deep: strings with escapes, quotes, non-ASCII and
    /// astral characters, integers at Int64's edges, doubles, and duplicate-free objects.
    static func value(_ generator: inout SplitMix64, depth: Int = 0) -> JSONValue {
        let kind = Int.random(in: 0..<(depth >= 4 ? 5 : 7), using: &generator)
        switch kind {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2:
            let edges: [Int64] = [0, -1, Int64.max, Int64.min, 3004]
            return .integer(
                generator.chance(0.3)
                    ? edges[Int.random(in: 0..<edges.count, using: &generator)]
                    : Int64.random(in: -1_000_000...1_000_000, using: &generator))
        case 3: return .double(Double(Int.random(in: -9999...9999, using: &generator)) + 0.5)
        case 4: return .string(string(&generator))
        case 5:
            return .array(
                (0..<Int.random(in: 0...4, using: &generator)).map { _ in value(&generator, depth: depth + 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                members[string(&generator)] = value(&generator, depth: depth + 1)
            }
            return .object(members)
        }
    }

    static func string(_ generator: inout SplitMix64) -> String {
        let pool = Array("ab Z09\"\\/\t\n\u{1}éß€漢😀".unicodeScalars)
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...12, using: &generator) {
            scalars.append(pool[Int.random(in: 0..<pool.count, using: &generator)])
        }
        return String(scalars)
    }

    /// One mutation of JSON text: a structural byte inserted, a byte deleted or changed, a
    /// slice duplicated (which may repeat a key), a cut.
    static func mutate(_ bytes: inout [UInt8], _ generator: inout SplitMix64) {
        let specials = Array("{}[]\":,\\u0e.-+ \n".utf8) + [0x00, 0xC3, 0xFF]
        let position = Int.random(in: 0...bytes.count, using: &generator)
        let inside = bytes.isEmpty ? 0 : min(position, bytes.count - 1)
        switch Int.random(in: 0..<5, using: &generator) {
        case 0: bytes.insert(specials[Int.random(in: 0..<specials.count, using: &generator)], at: position)
        case 1 where !bytes.isEmpty: bytes.remove(at: inside)
        case 2 where !bytes.isEmpty: bytes[inside] = specials[Int.random(in: 0..<specials.count, using: &generator)]
        case 3:
            let end = min(bytes.count, position + Int.random(in: 1...24, using: &generator))
            bytes.insert(contentsOf: bytes[position..<end], at: position)
        default: bytes.removeLast(min(bytes.count, Int.random(in: 0...3, using: &generator)))
        }
    }

    /// `value` and Foundation's reading of the same text agree: same strings, same structure,
    /// numbers equal as doubles (to 1e-12 relative: Foundation reads some through Decimal).
    static func agrees(_ value: JSONValue, _ foundation: Any) -> Bool {
        switch value {
        case .null: return foundation is NSNull
        case .bool(let flag): return (foundation as? Bool) == flag
        case .integer(let number):
            return (foundation as? NSNumber).map { $0.int64Value == number || $0.doubleValue == Double(number) }
                ?? false
        case .double(let number):
            guard let other = (foundation as? NSNumber)?.doubleValue else { return false }
            return abs(other - number) <= 1e-12 * max(1, abs(number))
        case .string(let text): return (foundation as? String) == text
        case .array(let items):
            guard let others = foundation as? [Any], others.count == items.count else { return false }
            return zip(items, others).allSatisfy { agrees($0, $1) }
        case .object(let members):
            guard let others = foundation as? [String: Any], others.count == members.count else { return false }
            return members.allSatisfy { key, member in others[key].map { agrees(member, $0) } ?? false }
        }
    }

    @Test("a value's canonical bytes parse back to the value")
    func roundTrip() throws {
        print("json: JSON_SEED=\(Self.seed)")
        for iteration in 0..<500 {
            var generator = SplitMix64(seed: Self.seed ^ UInt64(iteration) &* 0x9E37_79B9_7F4A_7C15)
            let value = Self.value(&generator)
            let parsed = try StrictJSONParser.parse(value.canonicalBytes)
            #expect(parsed == value, "JSON_SEED=\(Self.seed) iteration \(iteration)")
        }
    }

    @Test("mutated JSON: accepted only where Foundation agrees; refused with a position inside the text")
    func mutations() throws {
        print("json: JSON_SEED=\(Self.seed)")
        var accepted = 0
        var refused = 0
        for iteration in 0..<3000 {
            var generator = SplitMix64(seed: Self.seed ^ UInt64(iteration) &* 0xD1B5_4A32_D192_ED03)
            var bytes = Self.value(&generator).canonicalBytes
            for _ in 0..<Int.random(in: 1...3, using: &generator) { Self.mutate(&bytes, &generator) }
            let context: Comment =
                "JSON_SEED=\(Self.seed) iteration \(iteration): \(String(decoding: bytes, as: UTF8.self))"
            do {
                let value = try StrictJSONParser.parse(bytes)
                accepted += 1
                let foundation = try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)
                #expect(foundation.map { Self.agrees(value, $0) } == true, context)
                #expect(try StrictJSONParser.parse(value.canonicalBytes) == value, context)
            } catch {
                refused += 1
                let reason = error.reason
                if let at = reason.range(of: "at byte ") {
                    let position = Int(reason[at.upperBound...]) ?? 0
                    #expect((1...bytes.count + 1).contains(position), "\(reason); \(context)")
                } else {
                    let known = [
                        "occurs twice", "nested deeper", "outside the 64-bit range", "outside the range of a double",
                    ]
                    #expect(known.contains { reason.contains($0) }, "\(reason); \(context)")
                }
            }
        }
        print("json: \(accepted) accepted, \(refused) refused")
        #expect(accepted > 300 && refused > 300, "JSON_SEED=\(Self.seed)")
    }
}
