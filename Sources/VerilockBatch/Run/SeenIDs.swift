/// The external_ids seen so far in this run (by their UTF-8 bytes), 16 bytes a slot (a million
/// ids in about 32 MB): a 64-bit hash of the id (Swift's seeded SipHash) as the key; as the
/// value, 16 bits of a second, independent hash (FNV-1a), the file index and the line of the
/// first occurrence. Two different ids are taken for one with a chance near 2^-80; an id whose
/// first hash is taken by another is kept exactly, aside.
///
/// The keys are hashes already, so they index an open-addressing table directly (linear
/// probing, at most three quarters full), with no second hashing per id.
struct SeenIDs {
    /// Keys by slot; 0 marks an empty slot (a hash of 0 is stored as 1).
    private var keys: [UInt64]
    private var values: [UInt64]
    private var count = 0
    private var aside: [ExternalIDKey: UInt64] = [:]

    /// An empty set with room for `capacity` ids before it first grows.
    init(capacity: Int = 1 << 14) {
        let slots = Self.slots(for: capacity)
        keys = Array(repeating: 0, count: slots)
        values = Array(repeating: 0, count: slots)
    }

    /// The table size (a power of two) that holds `capacity` ids at most three quarters full.
    private static func slots(for capacity: Int) -> Int {
        var slots = 1 << 10
        while slots / 4 * 3 < capacity { slots <<= 1 }
        return slots
    }

    /// Makes room for `capacity` ids at once: growing early, while the table is small, spares
    /// holding the old and the new table together late, when both are large.
    mutating func reserve(_ capacity: Int) {
        let slots = Self.slots(for: capacity)
        if slots > keys.count { rehash(into: slots) }
    }

    /// The place where `externalID` was first seen; records it at `fileIndex`, `line` when new.
    mutating func firstPlace(of externalID: String, fileIndex: Int, line: Int) -> RowPlace? {
        var first = Hasher()
        first.combine(0x5645_5249 as UInt32)
        ExternalIDKey.combine(externalID, into: &first)
        let key = max(UInt64(bitPattern: Int64(first.finalize())), 1)
        let check = UInt64(Self.fnv1a(externalID) >> 48)
        let value = check << 48 | UInt64(min(fileIndex, 0xFFFF)) << 32 | UInt64(min(line, Int(UInt32.max)))
        let slot = self.slot(of: key)
        guard keys[slot] == key else {
            insert(key, value, at: slot)
            return nil
        }
        let seen = values[slot]
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

    /// The slot holding `key`, or the empty slot where it would go.
    private func slot(of key: UInt64) -> Int {
        let mask = keys.count - 1
        var slot = Int(truncatingIfNeeded: key) & mask
        while keys[slot] != 0 && keys[slot] != key { slot = (slot + 1) & mask }
        return slot
    }

    private mutating func insert(_ key: UInt64, _ value: UInt64, at slot: Int) {
        keys[slot] = key
        values[slot] = value
        count += 1
        if count > keys.count / 4 * 3 { rehash(into: keys.count * 2) }
    }

    private mutating func rehash(into slots: Int) {
        let (oldKeys, oldValues) = (keys, values)
        keys = Array(repeating: 0, count: slots)
        values = Array(repeating: 0, count: slots)
        for (index, key) in oldKeys.enumerated() where key != 0 {
            let slot = self.slot(of: key)
            keys[slot] = key
            values[slot] = oldValues[index]
        }
    }

    /// The 64-bit FNV-1a hash of `text`'s UTF-8 bytes.
    private static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    private static func place(_ value: UInt64) -> RowPlace {
        RowPlace(fileIndex: Int((value >> 32) & 0xFFFF), line: Int(value & 0xFFFF_FFFF))
    }
}
