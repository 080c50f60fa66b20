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
    /// The run that last touched the applicant.
    public var runID: Int64 = 0
}

/// How a row of this run was planned, as stored in `run_row.outcome`.
public enum PlannedOutcome: String, Sendable {
    /// A new session (generation 1, or a failed row tried again).
    case create
    /// A new generation for an expired link.
    case reissue
    /// A create left pending by an earlier run, settled with the body it was first sent with.
    case settle
    /// As ``settle``, but the row's data changed since: the session the first body made is kept.
    case settleChanged = "settle-changed"
    /// A create left pending by an earlier run whose row is not in this run's input.
    case carried
    case existing, invalid, duplicate, failed, expired

    /// Whether rows planned so are sent in this run.
    public var isSent: Bool {
        switch self {
        case .create, .reissue, .settle, .settleChanged, .carried: true
        case .existing, .invalid, .duplicate, .failed, .expired: false
        }
    }
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
                sql: "SELECT state, generation, expires_epoch, run_id FROM applicant WHERE external_id = ?"))
        lookup.reset()
        lookup.bind(1, externalID)
        guard try lookup.step(), let state = lookup.text(0) else { return nil }
        var entry = ApplicantEntry(
            state: state, generation: Int(lookup.int64(1) ?? 1), fingerprint: "", expiresEpoch: lookup.int64(2))
        entry.runID = lookup.int64(3) ?? 0
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
    /// before any request for it is sent. A row already pending keeps its generation,
    /// Idempotency-Key, request body and fingerprint, whatever changed since (the data, the
    /// profile): an earlier attempt may have made a session with them, and only the same key and
    /// body let the API settle that. The new data counts once the pending create is settled.
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
                    attempted = 0, attempted_epoch = NULL, unsettled_runs = 0, idempotency_key = excluded.idempotency_key,
                    state = 'pending', generation = excluded.generation, fingerprint = excluded.fingerprint,
                    request_body = excluded.request_body, updated_at = excluded.updated_at, run_id = excluded.run_id
                WHERE applicant.state <> 'pending'
                """
        )
        try statement.execute(arguments: [
            externalID, generation, idempotencyKey, fingerprint, Data(body), now, now, runID,
        ])
    }

    /// Runs that died, or could not write their files (exit 73), before their output was
    /// written: the sessions they made have reached nobody yet.
    public func undeliveredRuns() throws -> Set<Int64> {
        Set(
            try Int64.fetchAll(
                db, sql: "SELECT id FROM run WHERE (finished_at IS NULL OR exit_code = 73) AND id <> ?",
                arguments: [runID]))
    }

    /// Marks an applicant's session as this run's to deliver (write in its output).
    public func claimDelivery(_ externalID: String, now: String) throws {
        try db.cachedStatement(sql: "UPDATE applicant SET run_id = ?, updated_at = ? WHERE external_id = ?")
            .execute(arguments: [runID, now, externalID])
    }

    /// Marks a pending create as this run's to settle, changing nothing else of it.
    public func claimPending(_ externalID: String, now: String) throws {
        try db.cachedStatement(
            sql: "UPDATE applicant SET run_id = ?, updated_at = ? WHERE external_id = ? AND state = 'pending'"
        ).execute(arguments: [runID, now, externalID])
    }

    /// Records, after this run's input rows, a row for every applicant whose external_id is not
    /// in this run's input but who must be in its files: a create still pending (a run that
    /// died, or a file that changed), and a session made by a run that died before it wrote its
    /// output (nobody has that link yet). Each gets the file and line it was read from; those
    /// files are added to this run's inputs as carried over. Returns how many rows were carried
    /// over, and how many of them are pending creates to send.
    public func recordCarriedOver(firstSeq: Int64, firstFileIndex: Int) throws -> (rows: Int, pending: Int) {
        let unfinished = try undeliveredRuns().sorted()
        let undelivered =
            unfinished.isEmpty
            ? "0" : "(a.state = 'created' AND a.run_id IN (\(unfinished.map(String.init).joined(separator: ", "))))"
        let orphans = try Row.fetchAll(
            db,
            sql: """
                SELECT a.external_id, origin.line, origin.applicant_email, origin.applicant_name, origin.record,
                    input.path, a.state
                FROM applicant a
                LEFT JOIN run_row origin ON origin.run_id = a.run_id AND origin.external_id = a.external_id
                    AND origin.outcome NOT IN ('invalid', 'duplicate')
                LEFT JOIN run_input input ON input.run_id = origin.run_id AND input.file_index = origin.file_index
                WHERE (a.state = 'pending' OR \(undelivered)) AND NOT EXISTS (
                    SELECT 1 FROM run_row r WHERE r.run_id = ? AND r.external_id = a.external_id
                        AND r.outcome NOT IN ('invalid', 'duplicate'))
                ORDER BY a.rowid
                """,
            arguments: [runID])
        var fileIndexes: [String: Int] = [:]
        for (offset, orphan) in orphans.enumerated() {
            let path: String = orphan[5] ?? "(an earlier run)"
            let fileIndex: Int
            if let known = fileIndexes[path] {
                fileIndex = known
            } else {
                fileIndex = firstFileIndex + fileIndexes.count
                fileIndexes[path] = fileIndex
                try db.execute(
                    sql: "INSERT INTO run_input (run_id, file_index, path, size, carried) VALUES (?, ?, ?, NULL, 1)",
                    arguments: [runID, fileIndex, path])
            }
            let line: Int = orphan[1] ?? 1
            try db.execute(
                sql: """
                    INSERT INTO run_row (run_id, seq, file_index, line, external_id, outcome, applicant_email,
                        applicant_name, record) VALUES (?, ?, ?, ?, ?, 'carried', ?, ?, ?)
                    """,
                arguments: [
                    runID, firstSeq + Int64(offset), fileIndex, max(line, 1), orphan[0] as String, orphan[2] as String?,
                    orphan[3] as String?, orphan[4] as String?,
                ])
            try db.execute(
                sql: "UPDATE applicant SET run_id = ? WHERE external_id = ?", arguments: [runID, orphan[0] as String])
        }
        return (orphans.count, orphans.filter { ($0[6] as String) == "pending" }.count)
    }
}
