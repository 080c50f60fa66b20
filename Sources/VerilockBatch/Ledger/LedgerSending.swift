import Foundation

/// The send stage's work on a ledger, the same for every backend (``LedgerSQL``): reading the
/// pending creates, marking each attempted before its request leaves, and recording outcomes.
/// Each call runs inside the transaction its caller opened.
struct LedgerSending {
    let sql: any LedgerSQL

    /// Up to `limit` pending creates after `rowID` (of those run `runID` claimed, when given),
    /// in the order their intents were recorded.
    func pendingCreates(claimedBy runID: Int64?, after rowID: Int64, limit: Int) throws -> [PendingCreate] {
        let known = sql.dialect.joined("id", separator: " ")
        let claimed =
            runID == nil
            ? "" : "AND EXISTS (SELECT 1 FROM applicant a WHERE a.external_id = p.external_id AND a.run_id = ?)"
        return try sql.rows(
            """
            SELECT p.seq, p.external_id, p.idempotency_key, p.request_body, p.generation, p.attempted,
                (SELECT \(known) FROM session WHERE session.external_id = p.external_id),
                p.attempted_epoch, p.unsettled_runs
            FROM pending_create p WHERE p.seq > ? \(claimed) ORDER BY p.seq LIMIT ?
            """,
            [rowID] + (runID.map { [$0] } ?? []) + [limit]
        ).map { row in
            PendingCreate(
                rowID: row.int64(0) ?? 0,
                request: CreateSessionRequest(
                    externalID: row.text(1) ?? "", idempotencyKey: row.text(2) ?? "", body: row.blob(3) ?? []),
                generation: row.int(4) ?? 1,
                attempted: row.bool(5),
                attemptedAt: row.double(7).map(Date.init(timeIntervalSince1970:)),
                knownSessionIDs: Set((row.text(6) ?? "").split(separator: " ").map(String.init)),
                unsettledRuns: row.int(8) ?? 0
            )
        }
    }

    /// Marks a pending create as attempted at `date`, just before its request leaves: after a
    /// crash its outcome counts as unknown, and a lookup waits until that request can no longer
    /// be in flight.
    func markAttempted(_ create: PendingCreate, at date: Date) throws {
        let changed = try sql.execute(
            "UPDATE pending_create SET attempted = 1, attempted_epoch = ? WHERE seq = ? AND generation = ?",
            [date.timeIntervalSince1970, create.rowID, create.generation])
        guard changed == 1 else {
            throw LedgerError.database(
                path: sql.location,
                reason: "no pending create \(create.request.externalID) of generation \(create.generation)")
        }
    }

    /// Records the outcomes of sent creates, and what becomes of sessions that arrived expired.
    func record(_ outcomes: [(PendingCreate, SendOutcome)], expired: [ExpiredOnArrival], runID: Int64, now: Date)
        throws
    {
        let epoch = Int64(now.timeIntervalSince1970)
        // A create reissued at once keeps its pending_create row (its place and record), renewed.
        let reissued = Set(
            expired.compactMap { arrival -> String? in
                if case .reissue(let next) = arrival { return next.request.externalID }
                return nil
            })
        for (pending, outcome) in outcomes {
            let externalID = pending.request.externalID
            switch outcome {
            case .created(let session):
                let expires = session.expiresAt.flatMap(Timestamp.parse).map { Int64($0.timeIntervalSince1970) }
                try sql.execute(
                    """
                    UPDATE applicant SET state = 'created', session_id = ?, session_url = ?, session_token = ?,
                        expires_at = ?, expires_epoch = ?, error_status = NULL, error_code = NULL,
                        error_message = NULL, error_request_id = NULL, updated_epoch = ?, run_id = ?,
                        created_epoch = ?, session_status = ?, decision = NULL, completed_at = NULL,
                        synced_epoch = NULL
                    WHERE external_id = ? AND generation = ? AND state = 'pending'
                    """,
                    [
                        session.id, session.sessionURL, session.sessionToken, session.expiresAt, expires, epoch,
                        runID, epoch, session.status ?? "created", externalID, pending.generation,
                    ])
                if !reissued.contains(externalID) {
                    try settled(externalID: externalID, generation: pending.generation)
                }
            case .failed(let failure), .unresolved(let failure):
                let failed = if case .failed = outcome { true } else { false }
                try sql.execute(
                    """
                    UPDATE applicant SET state = ?, error_status = ?, error_code = ?, error_message = ?,
                        error_request_id = ?, updated_epoch = ?, run_id = ?
                    WHERE external_id = ? AND generation = ? AND state = 'pending'
                    """,
                    [
                        failed ? ApplicantState.failed.rawValue : ApplicantState.pending.rawValue, failure.status,
                        failure.code, failure.message, failure.requestID, epoch, runID, externalID,
                        pending.generation,
                    ])
                if failed {
                    // The rejection keeps the row's input record, which lived with the pending create.
                    try sql.execute(
                        """
                        UPDATE run_row SET record = (SELECT record FROM pending_create WHERE external_id = ?)
                        WHERE run_id = ? AND external_id = ? AND outcome NOT IN ('invalid', 'duplicate')
                            AND record IS NULL
                        """,
                        [externalID, runID, externalID])
                    try settled(externalID: externalID, generation: pending.generation)
                } else {
                    try sql.execute(
                        """
                        UPDATE pending_create SET unsettled_runs = CASE WHEN ? = 1 THEN unsettled_runs + 1 ELSE 0 END
                        WHERE external_id = ? AND generation = ?
                        """,
                        [failure.code == APIFailure.unreadableCode ? 1 : 0, externalID, pending.generation])
                }
            }
        }
        for arrival in expired {
            switch arrival {
            case .reissue(let next):
                let externalID = next.request.externalID
                try keepSession(of: externalID, generation: next.generation - 1)
                let renewed = try sql.execute(
                    """
                    UPDATE applicant SET state = 'pending', generation = ?, updated_epoch = ?, run_id = ?
                    WHERE external_id = ? AND generation = ? AND state = 'created'
                    """,
                    [next.generation, epoch, runID, externalID, next.generation - 1])
                if renewed > 0 {
                    try sql.execute(
                        """
                        UPDATE pending_create SET generation = ?, idempotency_key = ?, request_body = ?,
                            attempted = 0, attempted_epoch = NULL, unsettled_runs = 0
                        WHERE external_id = ? AND generation = ?
                        """,
                        [
                            next.generation, next.request.idempotencyKey, Data(next.request.body), externalID,
                            next.generation - 1,
                        ])
                } else {
                    try settled(externalID: externalID, generation: next.generation - 1)
                }
                try sql.execute(
                    """
                    UPDATE run_row SET outcome = 'reissue' WHERE run_id = ? AND external_id = ?
                        AND outcome IN ('create', 'settle', 'settle-changed')
                    """,
                    [runID, externalID])
            case .reject(let externalID, let expiresAt):
                try sql.execute(
                    """
                    UPDATE run_row SET outcome = 'expired', message = ? WHERE run_id = ? AND external_id = ?
                        AND outcome NOT IN ('invalid', 'duplicate')
                    """,
                    [
                        "the session settled for this row had expired when it arrived (expires_at "
                            + "\(expiresAt ?? "unknown")) and policy.reissue_expired is off",
                        runID, externalID,
                    ])
            }
        }
    }

    /// Copies `externalID`'s current session of `generation` (if it has one) to the session
    /// history, replacing what the history held for that generation: a reissue is about to
    /// replace it.
    func keepSession(of externalID: String, generation: Int?) throws {
        let generationCondition = generation == nil ? "" : " AND generation = ?"
        try sql.execute(
            """
            INSERT INTO session (external_id, generation, id, url, token, expires_at, run_id)
            SELECT external_id, generation, session_id, session_url, session_token, expires_at, run_id
            FROM applicant WHERE external_id = ?\(generationCondition) AND state = 'created'
            ON CONFLICT (external_id, generation) DO UPDATE SET id = excluded.id, url = excluded.url,
                token = excluded.token, expires_at = excluded.expires_at, run_id = excluded.run_id
            """,
            generation.map { [externalID, $0] } ?? [externalID])
    }

    /// Forgets a settled create's key, body and record.
    private func settled(externalID: String, generation: Int) throws {
        try sql.execute(
            "DELETE FROM pending_create WHERE external_id = ? AND generation = ?", [externalID, generation])
    }
}
