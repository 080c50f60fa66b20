import Foundation
import GRDB

/// A pending create, as the send stage reads it from the ledger.
public struct PendingCreate: Sendable, Equatable {
    /// The applicant row's rowid, for paging.
    public var rowID: Int64
    /// The request to send.
    public var request: CreateSessionRequest
    /// The generation this create makes.
    public var generation: Int
    /// Whether a request for it may have been sent before (its outcome is then unknown).
    public var attempted: Bool
    /// When its last request left, if the ledger knows.
    public var attemptedAt: Date?
    /// Sessions the ledger already holds for this applicant (earlier generations).
    public var knownSessionIDs: Set<String>
    /// Runs that ended with this create unsettled after a success answer without a session.
    public var unsettledRuns: Int

    /// A pending create with the given values.
    public init(
        rowID: Int64,
        request: CreateSessionRequest,
        generation: Int,
        attempted: Bool = false,
        attemptedAt: Date? = nil,
        knownSessionIDs: Set<String> = [],
        unsettledRuns: Int = 0
    ) {
        self.rowID = rowID
        self.request = request
        self.generation = generation
        self.attempted = attempted
        self.attemptedAt = attemptedAt
        self.knownSessionIDs = knownSessionIDs
        self.unsettledRuns = unsettledRuns
    }
}

extension Ledger {
    /// Up to `limit` pending creates after `rowID`, in the order their intents were recorded.
    public func pendingCreates(after rowID: Int64, limit: Int) throws -> [PendingCreate] {
        try read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT rowid, external_id, idempotency_key, request_body, generation, attempted,
                        (SELECT group_concat(id, ' ') FROM session WHERE session.external_id = applicant.external_id),
                        attempted_epoch, unsettled_runs
                    FROM applicant WHERE state = 'pending' AND rowid > ? ORDER BY rowid LIMIT ?
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
    public func markAttempted(_ create: PendingCreate, at date: Date) throws {
        try write { db in
            try db.cachedStatement(
                sql: "UPDATE applicant SET attempted = 1, attempted_epoch = ? WHERE rowid = ? AND generation = ?"
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
        expired: [ExpiredOnArrival] = [],
        runID: Int64,
        now: Date
    ) throws {
        let stamp = Timestamp.string(now)
        try write { db in
            for (pending, outcome) in outcomes {
                let externalID = pending.request.externalID
                switch outcome {
                case .created(let session):
                    let epoch = session.expiresAt.flatMap(Timestamp.parse).map { Int64($0.timeIntervalSince1970) }
                    try db.cachedStatement(
                        sql: """
                            UPDATE applicant SET state = 'created', session_id = ?, session_url = ?, session_token = ?,
                                expires_at = ?, expires_epoch = ?, request_body = NULL, error_status = NULL,
                                error_code = NULL, error_message = NULL, error_request_id = NULL, updated_at = ?,
                                run_id = ?
                            WHERE external_id = ? AND generation = ?
                            """
                    ).execute(arguments: [
                        session.id, session.sessionURL, session.sessionToken, session.expiresAt, epoch, stamp,
                        runID, externalID, pending.generation,
                    ]
                    )
                    try db.cachedStatement(
                        sql: """
                            INSERT OR IGNORE INTO session (id, external_id, generation, url, token, expires_at,
                                created_at, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """
                    ).execute(arguments: [
                        session.id, externalID, pending.generation, session.sessionURL, session.sessionToken,
                        session.expiresAt, stamp, runID,
                    ]
                    )
                case .failed(let failure), .unresolved(let failure):
                    let state = if case .failed = outcome { "failed" } else { "pending" }
                    let unsettled = failure.code == APIFailure.unreadableCode ? 1 : 0
                    try db.cachedStatement(
                        sql: """
                            UPDATE applicant SET state = ?, request_body = CASE WHEN ? = 'failed' THEN NULL
                                ELSE request_body END, error_status = ?, error_code = ?, error_message = ?,
                                error_request_id = ?, updated_at = ?, run_id = ?,
                                unsettled_runs = CASE WHEN ? = 1 THEN unsettled_runs + 1 ELSE 0 END
                            WHERE external_id = ? AND generation = ?
                            """
                    ).execute(arguments: [
                        state, state, failure.status, failure.code, failure.message, failure.requestID, stamp,
                        runID, unsettled, externalID, pending.generation,
                    ]
                    )
                }
            }
            for arrival in expired {
                switch arrival {
                case .reissue(let next):
                    try db.execute(
                        sql: """
                            UPDATE applicant SET state = 'pending', generation = ?, idempotency_key = ?,
                                request_body = ?, attempted = 0, attempted_epoch = NULL, unsettled_runs = 0,
                                updated_at = ?, run_id = ?
                            WHERE external_id = ? AND generation = ? AND state = 'created'
                            """,
                        arguments: [
                            next.generation, next.request.idempotencyKey, Data(next.request.body), stamp, runID,
                            next.request.externalID, next.generation - 1,
                        ])
                    try db.execute(
                        sql: """
                            UPDATE run_row SET outcome = 'reissue' WHERE run_id = ? AND external_id = ?
                                AND outcome IN ('create', 'settle', 'settle-changed')
                            """,
                        arguments: [runID, next.request.externalID])
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
}
