/// Where the applicants with a session stand, as `sync` last heard from the API.
public struct Funnel: Sendable, Equatable, Codable {
    /// Applicants with a session.
    public var invited = 0
    /// The API said the link is unopened (`created`).
    public var notStarted = 0
    /// Opened and not finished (`in_progress`, `processing`).
    public var started = 0
    /// Completed, by decision.
    public var approved = 0
    public var declined = 0
    public var review = 0
    /// Completed, no decision yet.
    public var completedUndecided = 0
    /// The link expired before the applicant completed.
    public var expiredUnused = 0
    /// Statuses this tool does not know.
    public var other = 0
    /// Never seen by `sync`.
    public var neverSynced = 0

    public init() {}

    /// Counts `count` applicants whose session the API last reported as `status`/`decision`
    /// (nil status: never synced).
    mutating func add(status: String?, decision: String?, count: Int) {
        invited += count
        switch (status, decision) {
        case (nil, _): neverSynced += count
        case ("created", _): notStarted += count
        case ("in_progress", _), ("processing", _): started += count
        case ("completed", "approved"): approved += count
        case ("completed", "declined"): declined += count
        case ("completed", "review"): review += count
        case ("completed", _): completedUndecided += count
        case ("expired", _): expiredUnused += count
        default: other += count
        }
    }

    /// One line: each stage and its count.
    public var text: String {
        "invited \(invited): not started \(notStarted), started \(started), approved \(approved), "
            + "declined \(declined), review \(review), completed undecided \(completedUndecided), "
            + "expired unused \(expiredUnused), never synced \(neverSynced)" + (other > 0 ? ", other \(other)" : "")
    }

    /// Each stage's name (as in JSON) and count, for metrics.
    public var stages: [(name: String, count: Int)] {
        [
            ("not_started", notStarted), ("started", started), ("approved", approved), ("declined", declined),
            ("review", review), ("completed_undecided", completedUndecided), ("expired_unused", expiredUnused),
            ("never_synced", neverSynced), ("other", other),
        ]
    }

    /// The sum of two funnels.
    public static func + (lhs: Funnel, rhs: Funnel) -> Funnel {
        var sum = lhs
        sum.invited += rhs.invited
        sum.notStarted += rhs.notStarted
        sum.started += rhs.started
        sum.approved += rhs.approved
        sum.declined += rhs.declined
        sum.review += rhs.review
        sum.completedUndecided += rhs.completedUndecided
        sum.expiredUnused += rhs.expiredUnused
        sum.other += rhs.other
        sum.neverSynced += rhs.neverSynced
        return sum
    }

    enum CodingKeys: String, CodingKey {
        case invited, started, approved, declined, review, other
        case notStarted = "not_started"
        case completedUndecided = "completed_undecided"
        case expiredUnused = "expired_unused"
        case neverSynced = "never_synced"
    }
}
