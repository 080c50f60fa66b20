/// What a run does with a valid row, given what the ledger knows of it (DESIGN.md section 4):
///
/// | ledger says | plan |
/// | --- | --- |
/// | nothing | ``RowPlan/create(generation:)`` 1 |
/// | created, personal data erased by retention | ``RowPlan/erased`` (never sent again) |
/// | created, completed (as `sync` last heard), declined and reissue_declined on | ``RowPlan/reissue(generation:)`` n+1 |
/// | created, completed otherwise (or processing), whatever its expiry | ``RowPlan/existing`` (never a new session) |
/// | created, link valid past the margin and not expired by the API | ``RowPlan/existing`` |
/// | created, expired (by the API, or the clock) or within the margin, reissue on | ``RowPlan/reissue(generation:)`` n+1 |
/// | created, expired, reissue off | ``RowPlan/expired`` |
/// | pending | ``RowPlan/settle(generation:)``: resend with the same key |
/// | failed, and retry_failed allows it | ``RowPlan/create(generation:)`` n+1 (a new key: the body or the attempt is new) |
/// | failed otherwise, or refused as `idempotency_key_reused` | ``RowPlan/failedBefore(_:)`` with the stored error |
public enum RowPlan: Sendable, Equatable {
    case create(generation: Int)
    case reissue(generation: Int)
    case settle(generation: Int)
    case existing
    case expired
    case erased
    case failedBefore(APIFailure)

    /// Plans a row.
    /// - Parameters:
    ///   - entry: the ledger's entry for the row's external_id.
    ///   - fingerprint: the fingerprint of the row's request body now (computed only when needed).
    ///   - nowEpoch: the current time in seconds since 1970.
    public static func plan(
        entry: ApplicantEntry?,
        fingerprint: () -> String,
        nowEpoch: Int64,
        policy: RerunPolicy
    ) -> RowPlan {
        guard let entry else { return .create(generation: 1) }
        switch entry.state {
        case .created:
            if entry.erased { return .erased }
            if entry.hasCompleted {
                // The applicant finished: a new session would be billed for nothing, unless the
                // job gives the declined another try.
                guard entry.decision == "declined", policy.reissueDeclined else { return .existing }
                return .reissue(generation: entry.generation + 1)
            }
            // Submitted: the decision is on its way, whatever the link's expiry.
            if entry.sessionStatus == "processing" { return .existing }
            let margin = policy.reissueMargin.components.seconds
            let expiredByAPI = entry.sessionStatus == "expired"
            guard expiredByAPI || entry.expiresEpoch.map({ $0 <= nowEpoch + margin }) == true else { return .existing }
            return policy.reissueExpired ? .reissue(generation: entry.generation + 1) : .expired
        case .pending:
            return .settle(generation: entry.generation)
        case .failed:
            let stored = entry.failure ?? APIFailure(status: nil, code: nil, message: "failed", requestID: nil)
            // The API holds a session under this row's key (made with other data): a new
            // generation would be a second session. Never retried by policy.
            if stored.code == APIFailure.keyReusedCode { return .failedBefore(stored) }
            switch policy.retryFailed {
            case .always: return .create(generation: entry.generation + 1)
            case .never: return .failedBefore(stored)
            case .changed:
                return fingerprint() == entry.fingerprint
                    ? .failedBefore(stored) : .create(generation: entry.generation + 1)
            }
        }
    }
}
