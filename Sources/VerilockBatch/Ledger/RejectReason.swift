/// The `reason` column of the rejects file: why a row ended without a link.
public enum RejectReason: String, Sendable {
    /// The row broke a rule of the job (a field missing, malformed or out of range).
    case invalid
    /// The same external_id came earlier in this run's input.
    case duplicate
    /// The API refused the create for good (a 4xx, or the retries ran out).
    case failed
    /// The applicant's link expired and the job does not reissue.
    case expired
    /// The create's outcome is not known yet: a rerun settles it.
    case pending
    /// Retention erased the applicant's personal data: never sent again.
    case erased
}

extension RejectReason {
    /// The reason of a row planned `outcome` that is not sent (nil for rows that are sent or
    /// already have a session: their reason depends on what the API answered).
    init?(planned outcome: PlannedOutcome) {
        switch outcome {
        case .invalid: self = .invalid
        case .duplicate: self = .duplicate
        case .failed: self = .failed
        case .expired: self = .expired
        case .erased: self = .erased
        case .create, .reissue, .settle, .settleChanged, .carried, .existing: return nil
        }
    }
}
