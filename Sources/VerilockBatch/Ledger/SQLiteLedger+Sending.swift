import Foundation
import GRDB

extension SQLiteLedger {
    /// Up to `limit` pending creates after `rowID`, in the order their intents were recorded.
    public func pendingCreates(after rowID: Int64, limit: Int) async throws -> [PendingCreate] {
        try await readSuspending { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, external_id, idempotency_key, request_body, generation, attempted,
                        (SELECT group_concat(id, ' ') FROM session WHERE session.external_id = pending_create.external_id),
                        attempted_epoch, unsettled_runs
                    FROM pending_create WHERE seq > ? ORDER BY seq LIMIT ?
                    """,
                arguments: [rowID, limit]
            )
            return rows.map { row in
                let body: Data = row[3]
                let known: String? = row[6]
                let attemptedEpoch: Double? = row[7]
                return PendingCreate(
                    rowID: row[0],
                    request: CreateSessionRequest(externalID: row[1], idempotencyKey: row[2], body: Array(body)),
                    generation: row[4],
                    attempted: row[5],
                    attemptedAt: attemptedEpoch.map(Date.init(timeIntervalSince1970:)),
                    knownSessionIDs: Set((known ?? "").split(separator: " ").map(String.init)),
                    unsettledRuns: row[8]
                )
            }
        }
    }

    /// Marks a pending create as attempted at `date`, just before its request leaves: after a
    /// crash its outcome counts as unknown, and a lookup waits until that request can no longer
    /// be in flight.
    public func markAttempted(_ create: PendingCreate, at date: Date) async throws {
        let path = self.path
        try await writeSuspending { db in
            try db.cachedStatement(
                sql: "UPDATE pending_create SET attempted = 1, attempted_epoch = ? WHERE seq = ? AND generation = ?"
            ).execute(arguments: [date.timeIntervalSince1970, create.rowID, create.generation])
            guard db.changesCount == 1 else {
                throw LedgerError.database(
                    path: path,
                    reason: "no pending create \(create.request.externalID) of generation \(create.generation)")
            }
        }
    }

    /// Records the outcomes of sent creates, and what becomes of sessions that arrived expired,
    /// in one transaction.
    public func record(
        _ outcomes: [(PendingCreate, SendOutcome)],
        expired: [ExpiredOnArrival],
        runID: Int64,
        now: Date
    ) async throws {
        let epoch = Int64(now.timeIntervalSince1970)
        // A create reissued at once keeps its pending_create row (its place and record), renewed.
        let reissued = Set(
            expired.compactMap { arrival -> String? in
                if case .reissue(let next) = arrival { return next.request.externalID }
                return nil
            })
        try await writeSuspending { db in
            for (pending, outcome) in outcomes {
                let externalID = pending.request.externalID
                switch outcome {
                case .created(let session):
                    let expires = session.expiresAt.flatMap(Timestamp.parse).map { Int64($0.timeIntervalSince1970) }
                    try db.cachedStatement(
                        sql: """
                            UPDATE applicant SET state = 'created', session_id = ?, session_url = ?, session_token = ?,
                                expires_at = ?, expires_epoch = ?, error_status = NULL, error_code = NULL,
                                error_message = NULL, error_request_id = NULL, updated_epoch = ?, run_id = ?,
                                created_epoch = ?, session_status = ?, decision = NULL, completed_at = NULL,
                                synced_epoch = NULL
                            WHERE external_id = ? AND generation = ? AND state = 'pending'
                            """
                    ).execute(arguments: [
                        session.id, session.sessionURL, session.sessionToken, session.expiresAt, expires, epoch,
                        runID, epoch, session.status ?? "created", externalID, pending.generation,
                    ])
                    if !reissued.contains(externalID) {
                        try self.settled(db, externalID: externalID, generation: pending.generation)
                    }
                case .failed(let failure), .unresolved(let failure):
                    let failed = if case .failed = outcome { true } else { false }
                    try db.cachedStatement(
                        sql: """
                            UPDATE applicant SET state = ?, error_status = ?, error_code = ?, error_message = ?,
                                error_request_id = ?, updated_epoch = ?, run_id = ?
                            WHERE external_id = ? AND generation = ? AND state = 'pending'
                            """
                    ).execute(arguments: [
                        failed ? ApplicantState.failed.rawValue : ApplicantState.pending.rawValue, failure.status,
                        failure.code, failure.message, failure.requestID, epoch, runID, externalID,
                        pending.generation,
                    ])
                    if failed {
                        // The rejection keeps the row's input record, which lived with the pending create.
                        try db.cachedStatement(
                            sql: """
                                UPDATE run_row SET record = (SELECT record FROM pending_create WHERE external_id = ?)
                                WHERE run_id = ? AND external_id = ? AND outcome NOT IN ('invalid', 'duplicate')
                                    AND record IS NULL
                                """
                        ).execute(arguments: [externalID, runID, externalID])
                        try self.settled(db, externalID: externalID, generation: pending.generation)
                    } else {
                        try db.cachedStatement(
                            sql: """
                                UPDATE pending_create SET unsettled_runs = CASE WHEN ? = 1 THEN unsettled_runs + 1
                                    ELSE 0 END
                                WHERE external_id = ? AND generation = ?
                                """
                        ).execute(arguments: [
                            failure.code == APIFailure.unreadableCode ? 1 : 0, externalID, pending.generation,
                        ])
                    }
                }
            }
            for arrival in expired {
                switch arrival {
                case .reissue(let next):
                    let externalID = next.request.externalID
                    try db.execute(
                        sql: """
                            INSERT OR REPLACE INTO session (external_id, generation, id, url, token, expires_at, run_id)
                            SELECT external_id, generation, session_id, session_url, session_token, expires_at, run_id
                            FROM applicant WHERE external_id = ? AND generation = ? AND state = 'created'
                            """,
                        arguments: [externalID, next.generation - 1])
                    try db.execute(
                        sql: """
                            UPDATE applicant SET state = 'pending', generation = ?, updated_epoch = ?, run_id = ?
                            WHERE external_id = ? AND generation = ? AND state = 'created'
                            """,
                        arguments: [next.generation, epoch, runID, externalID, next.generation - 1])
                    if db.changesCount > 0 {
                        try db.execute(
                            sql: """
                                UPDATE pending_create SET generation = ?, idempotency_key = ?, request_body = ?,
                                    attempted = 0, attempted_epoch = NULL, unsettled_runs = 0
                                WHERE external_id = ? AND generation = ?
                                """,
                            arguments: [
                                next.generation, next.request.idempotencyKey, Data(next.request.body), externalID,
                                next.generation - 1,
                            ])
                    } else {
                        try self.settled(db, externalID: externalID, generation: next.generation - 1)
                    }
                    try db.execute(
                        sql: """
                            UPDATE run_row SET outcome = 'reissue' WHERE run_id = ? AND external_id = ?
                                AND outcome IN ('create', 'settle', 'settle-changed')
                            """,
                        arguments: [runID, externalID])
                case .reject(let externalID, let expiresAt):
                    try db.execute(
                        sql: """
                            UPDATE run_row SET outcome = 'expired', message = ? WHERE run_id = ? AND external_id = ?
                                AND outcome NOT IN ('invalid', 'duplicate')
                            """,
                        arguments: [
                            "the session settled for this row had expired when it arrived (expires_at "
                                + "\(expiresAt ?? "unknown")) and policy.reissue_expired is off",
                            runID, externalID,
                        ])
                }
            }
        }
    }

    /// Forgets a settled create's key, body and record.
    private func settled(_ db: Database, externalID: String, generation: Int) throws {
        try db.cachedStatement(sql: "DELETE FROM pending_create WHERE external_id = ? AND generation = ?")
            .execute(arguments: [externalID, generation])
    }
}
