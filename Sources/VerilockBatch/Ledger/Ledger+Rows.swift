import Foundation
import GRDB

/// What the ledger knows of one applicant, as a rerun needs it.
public struct ApplicantEntry: Sendable, Equatable {
    /// `pending`, `created` or `failed`.
    public var state: String
    /// The generation of the current session (or intent).
    public var generation: Int
    /// SHA-256 of the last request body.
    public var fingerprint: String
    /// When the current link dies, in seconds since 1970.
    public var expiresEpoch: Int64?
    /// The stored error, for a failed row.
    public var failure: APIFailure?
}

/// How a row of this run was planned, as stored in `run_row.outcome`.
public enum PlannedOutcome: String, Sendable {
    case create, reissue, existing, invalid, duplicate, failed, expired
}

/// One row of a run to record in the ledger.
public struct RunRowRecord: Sendable {
    public var seq: Int64
    public var fileIndex: Int
    public var line: Int
    public var externalID: String?
    public var outcome: PlannedOutcome
    public var message: String?
    public var email: String?
    public var name: String?
    /// The input record (``InputRecordText``), kept for rejects and pass-through columns.
    public var record: String?
}

/// The ledger's per-row statements, for use inside one ``Ledger/write(_:)`` transaction.
/// Statements are prepared once and cached by the database connection.
public struct LedgerRows {
    let db: Database
    let runID: Int64

    /// The ledger's entry for `externalID`, if any.
    public func entry(_ externalID: String) throws -> ApplicantEntry? {
        let statement = try db.cachedStatement(
            sql: """
                SELECT state, generation, fingerprint, expires_epoch, error_status, error_code, error_message,
                    error_request_id FROM applicant WHERE external_id = ?
                """
        )
        guard let row = try Row.fetchOne(statement, arguments: [externalID]) else { return nil }
        let state: String = row[0]
        var failure: APIFailure?
        if state == "failed" {
            failure = APIFailure(status: row[4], code: row[5], message: row[6] ?? "failed", requestID: row[7])
        }
        return ApplicantEntry(
            state: state, generation: row[1], fingerprint: row[2], expiresEpoch: row[3], failure: failure)
    }

    /// Records a row of this run; false when its external_id already occurred in this run.
    public func insert(_ record: RunRowRecord) throws -> Bool {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO run_row (run_id, seq, file_index, line, external_id, outcome, message, applicant_email,
                    applicant_name, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """
        )
        try statement.execute(arguments: [
            runID, record.seq, record.fileIndex, record.line, record.externalID, record.outcome.rawValue,
            record.message, record.email, record.name, record.record,
        ])
        return db.changesCount > 0
    }

    /// Where `externalID` first occurred in this run.
    public func firstOccurrence(_ externalID: String) throws -> (fileIndex: Int, line: Int)? {
        let statement = try db.cachedStatement(
            sql: """
                SELECT file_index, line FROM run_row WHERE run_id = ? AND external_id = ?
                    AND outcome NOT IN ('invalid', 'duplicate')
                """
        )
        guard let row = try Row.fetchOne(statement, arguments: [runID, externalID]) else { return nil }
        return (row[0], row[1])
    }

    /// Records the intent to create `externalID`'s session of `generation` (state `pending`),
    /// before any request for it is sent.
    public func recordIntent(
        externalID: String,
        generation: Int,
        idempotencyKey: String,
        fingerprint: String,
        body: [UInt8],
        now: String
    ) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO applicant (external_id, state, generation, idempotency_key, fingerprint, request_body,
                    created_at, updated_at, run_id) VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (external_id) DO UPDATE SET
                    attempted = CASE WHEN applicant.state = 'pending' AND applicant.generation = excluded.generation
                        THEN applicant.attempted ELSE 0 END,
                    state = 'pending', generation = excluded.generation,
                    idempotency_key = excluded.idempotency_key, fingerprint = excluded.fingerprint,
                    request_body = excluded.request_body, updated_at = excluded.updated_at, run_id = excluded.run_id
                """
        )
        try statement.execute(arguments: [
            externalID, generation, idempotencyKey, fingerprint, Data(body), now, now, runID,
        ])
    }
}
