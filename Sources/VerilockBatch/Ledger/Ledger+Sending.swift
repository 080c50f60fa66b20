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
    /// Sessions the ledger already holds for this applicant (earlier generations).
    public var knownSessionIDs: Set<String>

    /// A pending create with the given values.
    public init(
        rowID: Int64,
        request: CreateSessionRequest,
        generation: Int,
        attempted: Bool = false,
        knownSessionIDs: Set<String> = []
    ) {
        self.rowID = rowID
        self.request = request
        self.generation = generation
        self.attempted = attempted
        self.knownSessionIDs = knownSessionIDs
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
                        (SELECT group_concat(id, ' ') FROM session WHERE session.external_id = applicant.external_id)
                    FROM applicant WHERE state = 'pending' AND rowid > ? ORDER BY rowid LIMIT ?
                    """,
                arguments: [rowID, limit]
            )
            return rows.map { row in
                let body: Data = row[3]
                let known: String? = row[6]
                return PendingCreate(
                    rowID: row[0],
                    request: CreateSessionRequest(externalID: row[1], idempotencyKey: row[2], body: Array(body)),
                    generation: row[4],
                    attempted: row[5],
                    knownSessionIDs: Set((known ?? "").split(separator: " ").map(String.init))
                )
            }
        }
    }

    /// Marks pending creates as attempted, before any of their requests is sent: after a crash,
    /// their outcome counts as unknown (and, with `unknown_outcome: lookup`, is looked up first).
    public func markAttempted(_ creates: [PendingCreate]) throws {
        guard !creates.isEmpty else { return }
        try write { db in
            let statement = try db.cachedStatement(sql: "UPDATE applicant SET attempted = 1 WHERE rowid = ?")
            for create in creates where !create.attempted {
                try statement.execute(arguments: [create.rowID])
            }
        }
    }

    /// Records the outcomes of sent creates, in one transaction.
    public func record(_ outcomes: [(PendingCreate, SendOutcome)], runID: Int64, now: Date) throws {
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
                    try db.cachedStatement(
                        sql: """
                            UPDATE applicant SET state = ?, request_body = CASE WHEN ? = 'failed' THEN NULL
                                ELSE request_body END, error_status = ?, error_code = ?, error_message = ?,
                                error_request_id = ?, updated_at = ?, run_id = ?
                            WHERE external_id = ? AND generation = ?
                            """
                    ).execute(arguments: [
                        state, state, failure.status, failure.code, failure.message, failure.requestID, stamp,
                        runID, externalID, pending.generation,
                    ]
                    )
                }
            }
        }
    }
}
