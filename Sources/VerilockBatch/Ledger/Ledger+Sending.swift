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
}

extension Ledger {
    /// Up to `limit` pending creates after `rowID`, in the order their intents were recorded.
    public func pendingCreates(after rowID: Int64, limit: Int) throws -> [PendingCreate] {
        try read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT rowid, external_id, idempotency_key, request_body, generation FROM applicant
                    WHERE state = 'pending' AND rowid > ? ORDER BY rowid LIMIT ?
                    """,
                arguments: [rowID, limit]
            )
            return rows.map { row in
                let body: Data = row[3]
                return PendingCreate(
                    rowID: row[0],
                    request: CreateSessionRequest(externalID: row[1], idempotencyKey: row[2], body: Array(body)),
                    generation: row[4]
                )
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
                    try db.execute(
                        sql: """
                            UPDATE applicant SET state = 'created', session_id = ?, session_url = ?, session_token = ?,
                                expires_at = ?, expires_epoch = ?, request_body = NULL, error_status = NULL,
                                error_code = NULL, error_message = NULL, error_request_id = NULL, updated_at = ?,
                                run_id = ?
                            WHERE external_id = ? AND generation = ?
                            """,
                        arguments: [
                            session.id, session.sessionURL, session.sessionToken, session.expiresAt, epoch, stamp,
                            runID, externalID, pending.generation,
                        ]
                    )
                    try db.execute(
                        sql: """
                            INSERT OR IGNORE INTO session (id, external_id, generation, url, token, expires_at,
                                created_at, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            session.id, externalID, pending.generation, session.sessionURL, session.sessionToken,
                            session.expiresAt, stamp, runID,
                        ]
                    )
                case .failed(let failure), .unresolved(let failure):
                    let state = if case .failed = outcome { "failed" } else { "pending" }
                    try db.execute(
                        sql: """
                            UPDATE applicant SET state = ?, request_body = CASE WHEN ? = 'failed' THEN NULL
                                ELSE request_body END, error_status = ?, error_code = ?, error_message = ?,
                                error_request_id = ?, updated_at = ?, run_id = ?
                            WHERE external_id = ? AND generation = ?
                            """,
                        arguments: [
                            state, state, failure.status, failure.code, failure.message, failure.requestID, stamp,
                            runID, externalID, pending.generation,
                        ]
                    )
                }
            }
        }
    }
}
