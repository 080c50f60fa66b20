/// Faults the simulator injects into creates, each with its probability (0...1).
public struct FaultInjection: Sendable, Equatable {
    /// Answer 500, 502 or 503 (with a JSON or an HTML body) without doing anything.
    public var failRate: Double
    /// Drop the connection before the session is created.
    public var resetBeforeCommitRate: Double
    /// Create the session, then drop the connection without answering.
    public var resetAfterCommitRate: Double
    /// Answer only after `slowMilliseconds` (past the client's timeout); the session is created.
    public var slowRate: Double
    /// How late a slow answer comes.
    public var slowMilliseconds: Int
    /// Seed of the fault dice, so a run can be repeated.
    public var seed: UInt64

    /// No faults.
    public init(
        failRate: Double = 0,
        resetBeforeCommitRate: Double = 0,
        resetAfterCommitRate: Double = 0,
        slowRate: Double = 0,
        slowMilliseconds: Int = 0,
        seed: UInt64 = 1
    ) {
        self.failRate = failRate
        self.resetBeforeCommitRate = resetBeforeCommitRate
        self.resetAfterCommitRate = resetAfterCommitRate
        self.slowRate = slowRate
        self.slowMilliseconds = slowMilliseconds
        self.seed = seed
    }

    /// What happens to one create.
    enum Fault: Sendable, Equatable {
        case none
        case fail(status: Int, html: Bool)
        case resetBeforeCommit
        case resetAfterCommit
        case slow
    }
}

/// SplitMix64: a small, seedable generator for the fault dice.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
