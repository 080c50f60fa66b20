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
    /// Reports that an applicant's earlier session (replaced by a reissue) was completed after
    /// all: the applicant is completed.
    public var completedEarlier = 0
    /// Reports of a completed session that said otherwise afterwards (ignored: completion sticks).
    public var regressions = 0
    /// List items that were not well-formed session reports (ignored).
    public var malformed = 0

    public init() {}

    /// The sum of two tallies.
    public static func + (lhs: SyncTally, rhs: SyncTally) -> SyncTally {
        var sum = lhs
        sum.matched += rhs.matched
        sum.changed += rhs.changed
        sum.foreign += rhs.foreign
        sum.otherSessions += rhs.otherSessions
        sum.completedEarlier += rhs.completedEarlier
        sum.regressions += rhs.regressions
        sum.malformed += rhs.malformed
        return sum
    }

    enum CodingKeys: String, CodingKey {
        case matched, changed, foreign
        case otherSessions = "other_sessions"
        case completedEarlier = "completed_earlier"
        case regressions, malformed
    }
}
