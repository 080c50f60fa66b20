/// How a row of this run was planned, as stored in `run_row.outcome`.
public enum PlannedOutcome: String, Sendable {
    /// A new session (generation 1, or a failed row tried again).
    case create
    /// A new generation for an expired link.
    case reissue
    /// A create left pending by an earlier run, settled with the body it was first sent with.
    case settle
    /// As ``settle``, but the row's data changed since: the session the first body made is kept.
    case settleChanged = "settle-changed"
    /// A create left pending by an earlier run whose row is not in this run's input.
    case carried
    case existing, invalid, duplicate, failed, expired
    /// A created applicant whose personal data retention erased: never sent again.
    case erased

    /// Whether rows planned so are sent in this run.
    public var isSent: Bool {
        switch self {
        case .create, .reissue, .settle, .settleChanged, .carried: true
        case .existing, .invalid, .duplicate, .failed, .expired, .erased: false
        }
    }
}
