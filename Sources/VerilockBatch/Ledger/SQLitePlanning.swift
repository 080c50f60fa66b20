import Foundation
import GRDB

/// ``LedgerPlanning`` for the SQLite ledger, inside one transaction on the ledger's own
/// connection. The per-row statements are prepared once and cached by the connection.
struct SQLitePlanning: LedgerPlanning {
    let db: Database
    let runID: Int64

    /// Rows per lookup statement.
    static let lookupBatch = 999

    func undeliveredRuns() throws -> Set<Int64> {
        Set(
            try Int64.fetchAll(
                db, sql: "SELECT id FROM run WHERE (finished_at IS NULL OR exit_code = 73) AND id <> ?",
                arguments: [runID]))
    }

    func entries(for externalIDs: [String]) throws -> [ApplicantEntry?] {
        var entries = [ApplicantEntry?](repeating: nil, count: externalIDs.count)
        guard !externalIDs.isEmpty else { return entries }
        // The ids go in as one JSON array: `json_each` gives each its place in the batch (`key`),
        // so each found entry goes straight to its row, with no hashing of ids on this thread.
        let lookup = RawStatement(
            statement: try db.cachedStatement(
                sql: """
                    SELECT j.key, a.state, a.generation, a.expires_epoch, a.run_id, a.session_id, a.session_url,
                        a.expires_at, a.erased_epoch IS NOT NULL, a.session_status, a.decision
                    FROM json_each(?) j JOIN applicant a ON a.external_id = j.value
                    """))
        lookup.reset()
        try lookup.bind(1, Self.jsonArray(externalIDs))
        var needDetails: [Int] = []
        while try lookup.step() {
            guard let place = lookup.int64(0).map(Int.init), entries.indices.contains(place),
                let state = lookup.text(1).flatMap(ApplicantState.init)
            else { continue }
            var entry = ApplicantEntry(
                state: state, generation: Int(lookup.int64(2) ?? 1), expiresEpoch: lookup.int64(3),
                runID: lookup.int64(4) ?? 0, erased: lookup.int64(8) == 1)
            if state == .created {
                entry.sessionStatus = lookup.text(9)
                entry.decision = lookup.text(10)
                if let sessionID = lookup.text(5), let url = lookup.text(6) {
                    entry.session = .init(
                        id: sessionID, url: url, expiresAt: lookup.text(7),
                        completed: entry.hasCompleted)
                }
            }
            if state != .created { needDetails.append(place) }
            entries[place] = entry
        }
        lookup.reset()
        // The fingerprint and the stored error, only for the few rows that need them.
        let details = try db.cachedStatement(
            sql: """
                SELECT fingerprint, error_status, error_code, error_message, error_request_id FROM applicant
                WHERE external_id = ?
                """)
        for place in needDetails {
            guard let detail = try Row.fetchOne(details, arguments: [externalIDs[place]]), var entry = entries[place]
            else { continue }
            entry.fingerprint = Self.fingerprintHex(detail[0])
            if entry.state == .failed {
                entry.failure = APIFailure(
                    status: detail[1], code: detail[2], message: detail[3] ?? "failed", requestID: detail[4])
            }
            entries[place] = entry
        }
        return entries
    }

    /// `texts` as a JSON array of strings, for `json_each`.
    static func jsonArray(_ texts: [String]) -> String {
        var json: [UInt8] = [UInt8(ascii: "[")]
        json.reserveCapacity(texts.count * 16)
        let hex = Array("0123456789abcdef".utf8)
        for (index, text) in texts.enumerated() {
            if index > 0 { json.append(UInt8(ascii: ",")) }
            json.append(UInt8(ascii: "\""))
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    json.append(UInt8(ascii: "\\"))
                    json.append(byte)
                case 0..<0x20:
                    json.append(contentsOf: Array("\\u00".utf8))
                    json.append(hex[Int(byte >> 4)])
                    json.append(hex[Int(byte & 0xF)])
                default:
                    json.append(byte)
                }
            }
            json.append(UInt8(ascii: "\""))
        }
        json.append(UInt8(ascii: "]"))
        return String(decoding: json, as: UTF8.self)
    }

    /// A fingerprint is stored as its 32 bytes (ledgers before version 5 hold 64 hex digits).
    private static func fingerprintBytes(_ hex: String) -> Data {
        var bytes = Data(capacity: hex.utf8.count / 2)
        var high: UInt8?
        for digit in hex.utf8 {
            let value: UInt8 =
                switch digit {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
                default: 0
                }
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return bytes
    }

    /// A stored fingerprint as 64 hex digits, whichever way it is stored.
    private static func fingerprintHex(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .string(let text): return text
        case .blob(let bytes): return SHA256.hex(bytes)
        default: return ""
        }
    }

    func record(_ plans: [PlannedRow], now: Date) throws {
        let epoch = Int64(now.timeIntervalSince1970)
        // Existing rows (nearly all of a rerun) record nothing: skipped without copying them.
        for index in plans.indices where plans[index].outcome != .existing {
            let plan = plans[index]
            if let intent = plan.intent, let externalID = plan.externalID {
                try recordIntent(intent, of: plan, externalID: externalID, epoch: epoch)
            }
            switch (plan.claim, plan.externalID) {
            case (.pending?, let externalID?):
                try db.cachedStatement(
                    sql:
                        "UPDATE applicant SET run_id = ?, updated_epoch = ? WHERE external_id = ? AND state = 'pending'"
                ).execute(arguments: [runID, epoch, externalID])
            case (.delivery?, let externalID?):
                try db.cachedStatement(sql: "UPDATE applicant SET run_id = ?, updated_epoch = ? WHERE external_id = ?")
                    .execute(arguments: [runID, epoch, externalID])
            default: break
            }
            guard plan.isRecorded else { continue }
            let insert = RawStatement(
                statement: try db.cachedStatement(
                    sql: """
                        INSERT INTO run_row (run_id, seq, file_index, line, external_id, outcome, message, record)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """))
            insert.reset()
            try insert.bind(1, runID)
            try insert.bind(2, plan.seq)
            try insert.bind(3, Int64(plan.fileIndex))
            try insert.bind(4, Int64(plan.line))
            try insert.bind(5, plan.externalID)
            try insert.bind(6, plan.outcome.rawValue)
            try insert.bind(7, plan.message)
            try insert.bind(8, plan.intent == nil || plan.keepsRecordInRun ? plan.record : nil)
            _ = try insert.step()
            insert.reset()
        }
    }

    /// Records the intent to create `externalID`'s session of the intent's generation (state
    /// `pending`, its key, body and record in `pending_create`), before any request for it is
    /// sent. A session it replaces goes to the history first. An applicant already pending keeps
    /// its generation, key, body and fingerprint, whatever changed since: an earlier attempt may
    /// have made a session with them, and only the same key and body let the API settle that.
    private func recordIntent(_ intent: PlannedRow.Intent, of plan: PlannedRow, externalID: String, epoch: Int64)
        throws
    {
        if intent.replacesSession {
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO session (external_id, generation, id, url, token, expires_at, run_id)
                    SELECT external_id, generation, session_id, session_url, session_token, expires_at, run_id
                    FROM applicant WHERE external_id = ? AND state = 'created'
                    """
            ).execute(arguments: [externalID])
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO applicant (external_id, state, generation, fingerprint, email, name, updated_epoch, run_id)
                VALUES (?, 'pending', ?, ?, ?, ?, ?, ?)
                ON CONFLICT (external_id) DO UPDATE SET
                    state = 'pending', generation = excluded.generation, fingerprint = excluded.fingerprint,
                    email = excluded.email, name = excluded.name, updated_epoch = excluded.updated_epoch,
                    run_id = excluded.run_id, erased_epoch = NULL
                WHERE applicant.state <> 'pending'
                """
        ).execute(arguments: [
            externalID, intent.generation, Self.fingerprintBytes(intent.fingerprint), plan.email, plan.name, epoch,
            runID,
        ])
        guard db.changesCount > 0 else { return }
        try db.cachedStatement(
            sql: """
                INSERT INTO pending_create (external_id, generation, idempotency_key, request_body, record)
                VALUES (?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            externalID, intent.generation, intent.idempotencyKey, Data(intent.body),
            plan.keepsRecordInRun ? nil : plan.record,
        ])
    }

    func recordLayout(fileIndex: Int, columns: [String]) throws {
        try db.execute(
            sql: "UPDATE run_input SET layout = ? WHERE run_id = ? AND file_index = ?",
            arguments: [InputRecordText.encode(values: columns), runID, fileIndex])
    }

    func recordInputRead(fileIndex: Int, sha256: String?, rows: Int, existing: Int) throws {
        try db.execute(
            sql: "UPDATE run_input SET sha256 = ?, rows = ?, existing = ? WHERE run_id = ? AND file_index = ?",
            arguments: [sha256, rows, existing, runID, fileIndex])
    }

    func recordCarriedOver(firstSeq: Int64, firstFileIndex: Int) throws -> (rows: Int, pending: Int) {
        let unfinished = try undeliveredRuns().sorted()
        let undelivered =
            unfinished.isEmpty
            ? "0" : "(a.state = 'created' AND a.run_id IN (\(unfinished.map(String.init).joined(separator: ", "))))"
        let orphans = try Row.fetchAll(
            db,
            sql: """
                SELECT a.external_id, origin.line, coalesce(origin.record, pending.record), input.path, a.state, input.layout
                FROM applicant a
                LEFT JOIN run_row origin ON origin.run_id = a.run_id AND origin.external_id = a.external_id
                    AND origin.outcome NOT IN ('invalid', 'duplicate')
                LEFT JOIN run_input input ON input.run_id = origin.run_id AND input.file_index = origin.file_index
                LEFT JOIN pending_create pending ON pending.external_id = a.external_id
                WHERE (a.state = 'pending' OR \(undelivered)) AND NOT EXISTS (
                    SELECT 1 FROM run_row r WHERE r.run_id = ? AND r.external_id = a.external_id
                        AND r.outcome NOT IN ('invalid', 'duplicate'))
                ORDER BY a.rowid
                """,
            arguments: [runID])
        var fileIndexes: [String: Int] = [:]
        for (offset, orphan) in orphans.enumerated() {
            let path: String = orphan[3] ?? "(an earlier run)"
            let fileIndex: Int
            if let known = fileIndexes[path] {
                fileIndex = known
            } else {
                fileIndex = firstFileIndex + fileIndexes.count
                fileIndexes[path] = fileIndex
                try db.execute(
                    sql: """
                        INSERT INTO run_input (run_id, file_index, path, size, carried, layout)
                        VALUES (?, ?, ?, NULL, 1, ?)
                        """,
                    arguments: [runID, fileIndex, path, orphan[5] as String?])
            }
            let line: Int = orphan[1] ?? 1
            try db.execute(
                sql: """
                    INSERT INTO run_row (run_id, seq, file_index, line, external_id, outcome, record)
                    VALUES (?, ?, ?, ?, ?, 'carried', ?)
                    """,
                arguments: [
                    runID, firstSeq + Int64(offset), fileIndex, max(line, 1), orphan[0] as String,
                    orphan[2] as String?,
                ])
            try db.execute(
                sql: "UPDATE applicant SET run_id = ? WHERE external_id = ?", arguments: [runID, orphan[0] as String])
        }
        return (orphans.count, orphans.filter { ($0[4] as String) == ApplicantState.pending.rawValue }.count)
    }

    func forEachPlannedReject(_ body: (RejectRow) throws -> Void) throws {
        let cursor = try Row.fetchCursor(
            db,
            sql: """
                SELECT file_index, line, external_id, outcome, message FROM run_row
                WHERE run_id = ? AND outcome NOT IN ('create', 'reissue', 'settle', 'settle-changed', 'carried', 'existing')
                ORDER BY seq
                """,
            arguments: [runID])
        while let row = try cursor.next() {
            guard let reason = RejectReason(planned: try SQLiteReading.plannedOutcome(row[3])) else { continue }
            try body(
                RejectRow(fileIndex: row[0], line: row[1], externalID: row[2], reason: reason, message: row[4] ?? ""))
        }
    }
}
