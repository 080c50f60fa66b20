/// Rows of a run by planned outcome, counted while they are read.
public struct PlanCounts: Sendable, Equatable {
    /// Rows read and recorded (of this shard).
    public var rows = 0
    /// Rows skipped because they belong to other shards.
    public var otherShards = 0
    /// Rows not in this run's input that are written all the same: creates left pending by
    /// earlier runs, and sessions made by runs that died before writing their output.
    public var carriedOver = 0
    /// The carried-over rows that are pending creates, to send.
    public var carriedPending = 0
    /// Rows by planned outcome, existing ones aside: counted a million times on a rerun, they
    /// are not hashed each time.
    private var others: [PlannedOutcome: Int] = [:]
    private var existingRows = 0

    /// Rows by planned outcome.
    public var byOutcome: [PlannedOutcome: Int] {
        var all = others
        if existingRows > 0 { all[.existing] = existingRows }
        return all
    }

    mutating func add(_ outcome: PlannedOutcome) {
        rows += 1
        if outcome == .existing {
            existingRows += 1
        } else {
            others[outcome, default: 0] += 1
        }
    }

    /// Rows to send (create, reissue, settle), carried-over ones included.
    public var toSend: Int { byOutcome.filter(\.key.isSent).map(\.value).reduce(carriedPending, +) }
    /// Rows with a valid session already.
    public var existing: Int { existingRows }
    /// Rows rejected while planning.
    public var rejected: Int { rows + carriedPending - toSend - existing }
}
