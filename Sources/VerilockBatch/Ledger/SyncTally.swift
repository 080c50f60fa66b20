/// What recording a batch of session reports did to the ledger.
public struct SyncTally: Sendable, Equatable, Codable {
    /// Reports of the ledger's current sessions.
    public var matched = 0
    /// Of those, the ones whose status, decision or expiry changed.
    public var changed = 0
    /// Reports whose external_id the ledger does not know (sessions made elsewhere).
    public var foreign = 0
    /// Reports of a known applicant's other session (replaced by a reissue, or made elsewhere).
    public var otherSessions = 0

    public init() {}

    /// The sum of two tallies.
    public static func + (lhs: SyncTally, rhs: SyncTally) -> SyncTally {
        var sum = lhs
        sum.matched += rhs.matched
        sum.changed += rhs.changed
        sum.foreign += rhs.foreign
        sum.otherSessions += rhs.otherSessions
        return sum
    }

    enum CodingKeys: String, CodingKey {
        case matched, changed, foreign
        case otherSessions = "other_sessions"
    }
}
