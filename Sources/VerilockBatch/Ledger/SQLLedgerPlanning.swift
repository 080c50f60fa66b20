import Foundation

/// ``LedgerPlanning`` written once over ``LedgerSQL``, for every backend, inside the run's
/// planning transaction. A backend may look batches up its own fastest way
/// (``entries(for:)``); what the lookup finds goes through ``ApplicantEntry/init(lookup:)`` and
/// ``addDetails(_:of:)`` either way.
protocol SQLLedgerPlanning: LedgerPlanning {
    var sql: any LedgerSQL { get }
    var runID: Int64 { get }
}

extension SQLLedgerPlanning {
    /// Runs that died (or could not write their files) before their output was written; a run
    /// still going on another connection (another shard or job sharing a database ledger) is
    /// not among them.
    func undeliveredRuns() throws -> Set<Int64> {
        Set(
            try sql.rows(
                """
                SELECT id FROM run WHERE (finished_at IS NULL OR exit_code = 73) AND id <> ?
                    AND NOT \(sql.dialect.isLive(run: "run"))
                """,
                [runID]
            ).compactMap { $0.int64(0) })
    }

    /// Looks the ids up in one statement: the ids go in as one JSON array, whose elements the
    /// database numbers, so each entry found goes straight to its place.
    func entries(for externalIDs: [String]) throws -> [ApplicantEntry?] {
        var entries = [ApplicantEntry?](repeating: nil, count: externalIDs.count)
        guard !externalIDs.isEmpty else { return entries }
        let ids =
            switch sql.dialect {
            case .sqlite: "json_each(?) j"
            case .postgres:
                "(SELECT value, ordinality - 1 AS key FROM json_array_elements_text(?::json) WITH ORDINALITY) j"
            }
        for row in try sql.rows(
            "SELECT j.key, \(ApplicantEntry.lookupColumns) FROM \(ids) JOIN applicant a ON a.external_id = j.value",
            [Self.jsonArray(externalIDs)])
        {
            guard let place = row.int(0), entries.indices.contains(place),
                let entry = ApplicantEntry(lookup: row)
            else { continue }
            entries[place] = entry
        }
        try addDetails(&entries, of: externalIDs)
        return entries
    }

    /// Reads the fingerprint, and a failure's stored error, of the entries that are not created:
    /// the few a rerun needs them for.
    func addDetails(_ entries: inout [ApplicantEntry?], of externalIDs: [String]) throws {
        for place in entries.indices {
            guard var entry = entries[place], entry.state != .created,
                let detail = try sql.row(
                    """
                    SELECT fingerprint, error_status, error_code, error_message, error_request_id FROM applicant
                    WHERE external_id = ?
                    """,
                    [externalIDs[place]])
            else { continue }
            entry.fingerprint = Self.fingerprintHex(detail.values[0])
            if entry.state == .failed {
                entry.failure = APIFailure(
                    status: detail.int(1), code: detail.text(2), message: detail.text(3) ?? "failed",
                    requestID: detail.text(4))
            }
            entries[place] = entry
        }
    }

    /// `texts` as a JSON array of strings, for the batch lookup.
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

    /// A fingerprint is stored as its 32 bytes (SQLite ledgers before version 5 hold 64 hex digits).
    static func fingerprintBytes(_ hex: String) -> Data {
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
    static func fingerprintHex(_ value: LedgerValue) -> String {
        switch value {
        case .text(let text): text
        case .blob(let bytes): SHA256.hex(Data(bytes))
        default: ""
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
                try sql.execute(
                    "UPDATE applicant SET run_id = ?, updated_epoch = ? WHERE external_id = ? AND state = 'pending'",
                    [runID, epoch, externalID])
            case (.delivery?, let externalID?):
                try sql.execute(
                    "UPDATE applicant SET run_id = ?, updated_epoch = ? WHERE external_id = ?",
                    [runID, epoch, externalID])
            default: break
            }
            guard plan.isRecorded else { continue }
            try sql.execute(
                """
                INSERT INTO run_row (run_id, seq, file_index, line, external_id, outcome, message, record)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    runID, plan.seq, plan.fileIndex, plan.line, plan.externalID, plan.outcome.rawValue, plan.message,
                    plan.intent == nil || plan.keepsRecordInRun ? plan.record : nil,
                ])
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
            try LedgerSending(sql: sql).keepSession(of: externalID, generation: nil)
        }
        let claimed = try sql.execute(
            """
            INSERT INTO applicant (external_id, state, generation, fingerprint, email, name, updated_epoch, run_id)
            VALUES (?, 'pending', ?, ?, ?, ?, ?, ?)
            ON CONFLICT (external_id) DO UPDATE SET
                state = 'pending', generation = excluded.generation, fingerprint = excluded.fingerprint,
                email = excluded.email, name = excluded.name, updated_epoch = excluded.updated_epoch,
                run_id = excluded.run_id, erased_epoch = NULL
            WHERE applicant.state <> 'pending'
            """,
            [
                externalID, intent.generation, Self.fingerprintBytes(intent.fingerprint), plan.email, plan.name, epoch,
                runID,
            ])
        guard claimed > 0 else { return }
        try sql.execute(
            """
            INSERT INTO pending_create (external_id, generation, idempotency_key, request_body, record)
            VALUES (?, ?, ?, ?, ?)
            """,
            [
                externalID, intent.generation, intent.idempotencyKey, Data(intent.body),
                plan.keepsRecordInRun ? nil : plan.record,
            ])
    }

    func recordLayout(fileIndex: Int, columns: [String]) throws {
        try sql.execute(
            "UPDATE run_input SET layout = ? WHERE run_id = ? AND file_index = ?",
            [InputRecordText.encode(values: columns), runID, fileIndex])
    }

    func recordInputRead(fileIndex: Int, sha256: String?, rows: Int, existing: Int) throws {
        try sql.execute(
            "UPDATE run_input SET sha256 = ?, rows = ?, existing = ? WHERE run_id = ? AND file_index = ?",
            [sha256, rows, existing, runID, fileIndex])
    }

    func recordCarriedOver(firstSeq: Int64, firstFileIndex: Int, shard: Shard?) throws -> (rows: Int, pending: Int) {
        let unfinished = try undeliveredRuns().sorted()
        let undelivered =
            unfinished.isEmpty
            ? "1 = 0" : "(a.state = 'created' AND a.run_id IN (\(unfinished.map(String.init).joined(separator: ", "))))"
        let orphans = try sql.rows(
            """
            SELECT a.external_id, origin.line, coalesce(origin.record, pending.record), input.path, a.state, input.layout
            FROM applicant a
            LEFT JOIN run_row origin ON origin.run_id = a.run_id AND origin.external_id = a.external_id
                AND origin.outcome NOT IN ('invalid', 'duplicate')
            LEFT JOIN run_input input ON input.run_id = origin.run_id AND input.file_index = origin.file_index
            LEFT JOIN pending_create pending ON pending.external_id = a.external_id
            WHERE (a.state = 'pending' OR \(undelivered)) AND NOT EXISTS (
                SELECT 1 FROM run_row r WHERE r.run_id = ? AND r.external_id = a.external_id
                    AND r.outcome NOT IN ('invalid', 'duplicate'))
                AND NOT EXISTS (SELECT 1 FROM run lr WHERE lr.id = a.run_id AND lr.id <> ?
                    AND \(sql.dialect.isLive(run: "lr")))
            ORDER BY a.rowid
            """,
            [runID, runID]
        ).filter { orphan in shard.map { $0.contains(orphan.text(0) ?? "") } ?? true }
        var fileIndexes: [String: Int] = [:]
        for (offset, orphan) in orphans.enumerated() {
            let externalID = orphan.text(0) ?? ""
            let path = orphan.text(3) ?? "(an earlier run)"
            let fileIndex: Int
            if let known = fileIndexes[path] {
                fileIndex = known
            } else {
                fileIndex = firstFileIndex + fileIndexes.count
                fileIndexes[path] = fileIndex
                try sql.execute(
                    """
                    INSERT INTO run_input (run_id, file_index, path, size, carried, layout)
                    VALUES (?, ?, ?, NULL, 1, ?)
                    """,
                    [runID, fileIndex, path, orphan.text(5)])
            }
            try sql.execute(
                """
                INSERT INTO run_row (run_id, seq, file_index, line, external_id, outcome, record)
                VALUES (?, ?, ?, ?, ?, 'carried', ?)
                """,
                [runID, firstSeq + Int64(offset), fileIndex, max(orphan.int(1) ?? 1, 1), externalID, orphan.text(2)])
            try sql.execute("UPDATE applicant SET run_id = ? WHERE external_id = ?", [runID, externalID])
        }
        return (orphans.count, orphans.filter { $0.text(4) == ApplicantState.pending.rawValue }.count)
    }

    func forEachPlannedReject(_ body: (RejectRow) throws -> Void) throws {
        for row in try sql.rows(
            """
            SELECT file_index, line, external_id, outcome, message FROM run_row
            WHERE run_id = ? AND outcome NOT IN ('create', 'reissue', 'settle', 'settle-changed', 'carried', 'existing')
            ORDER BY seq
            """,
            [runID])
        {
            guard let reason = RejectReason(planned: try PlannedOutcome.stored(row.text(3), in: sql.location)) else {
                continue
            }
            try body(
                RejectRow(
                    fileIndex: row.int(0) ?? 0, line: row.int(1) ?? 1, externalID: row.text(2), reason: reason,
                    message: row.text(4) ?? ""))
        }
    }
}
