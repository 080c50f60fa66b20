/// One shard of an input split by external_id (`--shard K/N`), so several hosts or keys can share
/// one input, each with its own ledger.
///
/// A row belongs to shard K of N when `FNV-1a-64(UTF-8 bytes of external_id) mod N == K - 1`.
/// The hash is fixed (it never depends on the process or the platform), so a row stays in its
/// shard from run to run. Rows whose external_id cannot be read go to shard 1, which rejects them.
public struct Shard: Sendable, Equatable {
    /// The shard, 1...count.
    public var index: Int
    /// How many shards there are.
    public var count: Int

    /// Parses `K/N` with 1 ≤ K ≤ N.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1,
            (1...count).contains(index)
        else { return nil }
        self.index = index
        self.count = count
    }

    /// Whether the row with `externalID` belongs to this shard.
    public func contains(_ externalID: String) -> Bool {
        Int(Self.hash(externalID) % UInt64(count)) == index - 1
    }

    /// FNV-1a, 64 bits, over the UTF-8 bytes.
    static func hash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}
