import Foundation

/// Which applicants with a session an export lists (`export --all`, `export --status`).
public struct SessionSelection: Sendable, Equatable {
    /// A follow-up list, by what `sync` last heard of each current session.
    public enum Status: String, Sendable, CaseIterable {
        /// Still valid and not completed: the reminder mail-merge, with the link to send again.
        case open
        /// Completed, whatever the decision.
        case completed
        /// Completed and approved, declined, or sent to manual review.
        case approved, declined, review
        /// The link expired before the applicant completed.
        case expired
    }

    /// Only these (nil: every applicant with a session).
    public var status: Status?
    /// Only sessions created, or whose status changed, at or after this instant.
    public var since: Date?
    /// The instant links are judged valid or expired at.
    public var now: Date

    /// A selection with the given values.
    public init(status: Status? = nil, since: Date? = nil, now: Date) {
        self.status = status
        self.since = since
        self.now = now
    }
}
