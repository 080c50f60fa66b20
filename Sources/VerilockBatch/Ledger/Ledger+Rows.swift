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

    /// The ledger's entry for `externalID`, if any. The per-row path of every rerun: one indexed
    /// lookup of three columns; the fingerprint and the stored error are read only for the few
    /// rows that need them (pending and failed ones).
    public func entry(_ externalID: String) throws -> ApplicantEntry? {
        let lookup = RawStatement(
            statement: try db.cachedStatement(
                sql: "SELECT state, generation, expires_epoch FROM applicant WHERE external_id = ?"))
        lookup.reset()
        lookup.bind(1, externalID)
        guard try lookup.step(), let state = lookup.text(0) else { return nil }
        var entry = ApplicantEntry(
            state: state, generation: Int(lookup.int64(1) ?? 1), fingerprint: "", expiresEpoch: lookup.int64(2))
        lookup.reset()
        guard entry.state != "created" else { return entry }
        let details = try db.cachedStatement(
            sql: """
                SELECT fingerprint, error_status, error_code, error_message, error_request_id FROM applicant
                WHERE external_id = ?
                """)
        guard let detail = try Row.fetchOne(details, arguments: [externalID]) else { return entry }
        entry.fingerprint = detail[0]
        if entry.state == "failed" {
            entry.failure = APIFailure(
                status: detail[1], code: detail[2], message: detail[3] ?? "failed", requestID: detail[4])
        }
        return entry
    }

    /// Records a row of this run; false when its external_id already occurred in this run.
    public func insert(_ record: RunRowRecord) throws -> Bool {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO run_row (run_id, seq, file_index, line, external_id, outcome, message, applicant_email,
                    applicant_name, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """
        )
        let insert = RawStatement(statement: statement)
        insert.reset()
        insert.bind(1, runID)
        insert.bind(2, record.seq)
        insert.bind(3, Int64(record.fileIndex))
        insert.bind(4, Int64(record.line))
        insert.bind(5, record.externalID)
        insert.bind(6, record.outcome.rawValue)
        insert.bind(7, record.message)
        insert.bind(8, record.email)
        insert.bind(9, record.name)
        insert.bind(10, record.record)
        _ = try insert.step()
        insert.reset()
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
    /// before any request for it is sent. A row already pending for that generation keeps its
    /// Idempotency-Key, even if the job's profile changed since: an earlier attempt may have
    /// made a session with it, and only the same key lets the API settle that.
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
                    idempotency_key = CASE WHEN applicant.state = 'pending'
                        AND applicant.generation = excluded.generation
                        THEN applicant.idempotency_key ELSE excluded.idempotency_key END,
                    state = 'pending', generation = excluded.generation, fingerprint = excluded.fingerprint,
                    request_body = excluded.request_body, updated_at = excluded.updated_at, run_id = excluded.run_id
                """
        )
        try statement.execute(arguments: [
            externalID, generation, idempotencyKey, fingerprint, Data(body), now, now, runID,
        ])
    }
}
