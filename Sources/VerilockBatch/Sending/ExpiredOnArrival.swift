/// What becomes of a settled session (a replay or a lookup's adoption) whose link had expired,
/// or expires within the reissue margin, by the time it arrived.
public enum ExpiredOnArrival: Sendable, Equatable {
    /// `reissue_expired` is on: the next generation's create, recorded pending with the same
    /// body and sent in the same run.
    case reissue(PendingCreate)
    /// `reissue_expired` is off: the row goes to the rejects file as expired.
    case reject(externalID: String, expiresAt: String?)
}
