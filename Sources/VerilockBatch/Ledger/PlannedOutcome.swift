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

    /// A run row's outcome as stored in the ledger at `location`; one this tool does not know is
    /// an error, not a guess.
    static func stored(_ text: String?, in location: String) throws(LedgerError) -> PlannedOutcome {
        guard let outcome = text.flatMap(PlannedOutcome.init(rawValue:)) else {
            throw .database(path: location, reason: "a run row has the unknown outcome '\(text ?? "NULL")'")
        }
        return outcome
    }

    /// Whether rows planned so are sent in this run.
    public var isSent: Bool {
        switch self {
        case .create, .reissue, .settle, .settleChanged, .carried: true
        case .existing, .invalid, .duplicate, .failed, .expired, .erased: false
        }
    }
}
