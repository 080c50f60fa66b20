/// The external_ids seen so far in this run (by their UTF-8 bytes), 16 bytes each (a million
/// ids in about 32 MB): a 64-bit hash of the id as the key; as the value, 16 bits of a second,
/// independent hash, the file index and the line of the first occurrence. Two different ids
/// are taken for one with a chance near 2^-80; an id whose first hash is taken by another is
/// kept exactly, aside.
struct SeenIDs {
    private var table: [UInt64: UInt64] = [:]
    private var aside: [ExternalIDKey: UInt64] = [:]

    /// The place where `externalID` was first seen; records it at `fileIndex`, `line` when new.
    mutating func firstPlace(of externalID: String, fileIndex: Int, line: Int) -> RowPlace? {
        var first = Hasher()
        first.combine(0x5645_5249 as UInt32)
        ExternalIDKey.combine(externalID, into: &first)
        var second = Hasher()
        second.combine(0x4C4F_434B as UInt32)
        ExternalIDKey.combine(externalID, into: &second)
        let key = UInt64(bitPattern: Int64(first.finalize()))
        let check = UInt64(UInt16(truncatingIfNeeded: second.finalize()))
        let value = check << 48 | UInt64(min(fileIndex, 0xFFFF)) << 32 | UInt64(min(line, Int(UInt32.max)))
        guard let seen = table[key] else {
            table[key] = value
            return nil
        }
        // Same first hash, different second hash: another id holds the slot.
        if seen >> 48 != check {
            let exact = ExternalIDKey(externalID)
            guard let kept = aside[exact] else {
                aside[exact] = value
                return nil
            }
            return Self.place(kept)
        }
        return Self.place(seen)
    }

    private static func place(_ value: UInt64) -> RowPlace {
        RowPlace(fileIndex: Int((value >> 32) & 0xFFFF), line: Int(value & 0xFFFF_FFFF))
    }
}
