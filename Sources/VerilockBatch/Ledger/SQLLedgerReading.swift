import Foundation

/// ``LedgerReading`` written once over ``LedgerSQL``, for every backend, inside one read-only
/// transaction (one snapshot). A backend may look batches up its own fastest way
/// (``entries(for:)``).
protocol SQLLedgerReading: LedgerReading {
    var sql: any LedgerSQL { get }
}

extension SQLLedgerReading {
    /// The input files of run `runID`, by file index.
    func inputFiles(runID: Int64) throws -> [RunInputFile] {
        try sql.rows(
            "SELECT file_index, path, sha256, rows, existing, carried FROM run_input WHERE run_id = ? ORDER BY file_index",
            [runID]
        ).map { row in
            RunInputFile(
                fileIndex: row.int(0) ?? 0, path: row.text(1) ?? "", sha256: row.text(2), rows: row.int(3),
                existing: row.int(4), carried: row.bool(5))
        }
    }

    /// The input-order places (`seq`) of the rows run `runID` recorded, ascending.
    func recordedSeqs(runID: Int64) throws -> [Int64] {
        try sql.rows("SELECT seq FROM run_row WHERE run_id = ? ORDER BY seq", [runID]).compactMap { $0.int64(0) }
    }

    /// When the newest run of `job` that exited 0 ended.
    func lastSuccess(job: String) throws -> String? {
        try sql.row("SELECT max(finished_at) FROM run WHERE job = ? AND exit_code = 0", [job])?.text(0)
    }

    /// The id of the newest run of `job` (of any job when nil).
    func lastRunID(job: String?) throws -> Int64? {
        if let job { return try sql.row("SELECT max(id) FROM run WHERE job = ?", [job])?.int64(0) }
        return try sql.row("SELECT max(id) FROM run")?.int64(0)
    }

    /// The SQL condition for a run row that has a session (output), given `r` and `a`.
    private static var hasSession: String {
        "(a.session_url IS NOT NULL AND (r.outcome = 'existing' OR (r.outcome IN \(sentOutcomes) AND a.state = 'created')))"
    }

    /// The run-row outcomes of rows sent in their run, as an SQL list.
    private static var sentOutcomes: String { "('create', 'reissue', 'settle', 'settle-changed', 'carried')" }

    /// The output `status` of a row with a session, by its run-row outcome.
    private static func outputStatus(_ outcome: PlannedOutcome) -> OutputStatus {
        switch outcome {
        case .create, .settle, .carried: .created
        case .reissue: .reissued
        case .settleChanged, .existing, .invalid, .duplicate, .failed, .expired, .erased: .existing
        }
    }

    /// Calls `body` with every output row of `runID` that the ledger holds, in input order (the
    /// run's existing rows are not among them: they are in its ``OutputSpool``).
    func forEachOutputRow(runID: Int64, _ body: (OutputRow) throws -> Void) throws {
        let layouts = try layouts(runID: runID)
        try sql.forEachRow(
            """
            SELECT r.seq, r.file_index, r.line, r.external_id, a.email, a.name, a.session_id,
                a.session_url, a.expires_at, r.outcome, r.record
            FROM run_row r JOIN applicant a ON a.external_id = r.external_id
            WHERE r.run_id = ? AND \(Self.hasSession) ORDER BY r.seq
            """,
            [runID]
        ) { row in
            let outcome = try PlannedOutcome.stored(row.text(9), in: sql.location)
            var output = OutputRow(
                fileIndex: row.int(1) ?? 0, line: row.int(2) ?? 1, externalID: row.text(3) ?? "",
                email: row.text(4), name: row.text(5), sessionID: row.text(6) ?? "", sessionURL: row.text(7) ?? "",
                expiresAt: row.text(8), status: Self.outputStatus(outcome), record: row.text(10))
            output.seq = row.int64(0) ?? 0
            output.layout = layouts[output.fileIndex]
            output.isNew = outcome != .existing
            try body(output)
        }
    }

    /// The headers of a run's CSV inputs, by file index.
    func layouts(runID: Int64) throws -> [Int: [String]] {
        var layouts: [Int: [String]] = [:]
        for row in try sql.rows(
            "SELECT file_index, layout FROM run_input WHERE run_id = ? AND layout IS NOT NULL", [runID])
        {
            if let index = row.int(0), let layout = row.text(1) { layouts[index] = InputRecordText.values(layout) }
        }
        return layouts
    }

    /// Calls `body` with every applicant that has a session (and its link) and that
    /// `selection` takes, in the order they were first recorded, with the e-mail and name of the
    /// create that made it and what `sync` last heard of the session.
    func forEachSession(_ selection: SessionSelection, _ body: (OutputRow) throws -> Void) throws {
        let now = Int64(selection.now.timeIntervalSince1970)
        var conditions = ["state = 'created'", "session_url IS NOT NULL"]
        var arguments: [any LedgerValueConvertible] = []
        switch selection.status {
        case nil: break
        case .open:
            conditions.append(
                "coalesce(session_status, '') NOT IN ('completed', 'expired') AND coalesce(expires_epoch, ?) > ?")
            arguments += [now + 1, now]
        case .completed: conditions.append("session_status = 'completed'")
        case .approved, .declined, .review:
            conditions.append("session_status = 'completed' AND decision = ?")
            arguments.append(selection.status?.rawValue ?? "")
        case .expired:
            conditions.append(
                "(session_status = 'expired' OR (coalesce(session_status, '') <> 'completed' AND expires_epoch <= ?))")
            arguments.append(now)
        }
        if let since = selection.since {
            let epoch = Int64(since.timeIntervalSince1970.rounded(.up))
            conditions.append(
                """
                (created_epoch >= ? OR EXISTS (SELECT 1 FROM session_status h
                    WHERE h.session_id = applicant.session_id AND h.seen_epoch >= ?))
                """)
            arguments += [epoch, epoch]
        }
        try sql.forEachRow(
            """
            SELECT external_id, email, name, session_id, session_url, expires_at, generation, session_status,
                decision, completed_at
            FROM applicant WHERE \(conditions.joined(separator: " AND ")) ORDER BY rowid
            """,
            arguments
        ) { row in
            let sessionStatus = row.text(7)
            var output = OutputRow(
                fileIndex: -1, line: 0, externalID: row.text(0) ?? "", email: row.text(1), name: row.text(2),
                sessionID: row.text(3) ?? "", sessionURL: row.text(4) ?? "", expiresAt: row.text(5),
                status: SessionReport.isCompleted(status: sessionStatus, decision: row.text(8))
                    ? .completed : (row.int(6) ?? 1) > 1 ? .reissued : .created)
            output.sessionStatus = sessionStatus
            output.decision = row.text(8)
            output.completedAt = row.text(9)
            try body(output)
        }
    }

    /// Calls `body` with every rejected row of `runID`, in input order.
    func forEachReject(runID: Int64, _ body: (RejectRow) throws -> Void) throws {
        let layouts = try layouts(runID: runID)
        try sql.forEachRow(
            """
            SELECT r.file_index, r.line, r.external_id, r.outcome, r.message, a.state, a.error_status,
                a.error_code, a.error_message, a.error_request_id, coalesce(r.record, p.record)
            FROM run_row r LEFT JOIN applicant a ON a.external_id = r.external_id
                AND r.outcome IN \(Self.sentOutcomes)
            LEFT JOIN pending_create p ON p.external_id = a.external_id
            WHERE r.run_id = ? AND r.outcome <> 'existing'
                AND NOT (r.outcome IN \(Self.sentOutcomes) AND a.state = 'created' AND a.session_url IS NOT NULL)
            ORDER BY r.seq
            """,
            [runID]
        ) { row in
            let planned = try PlannedOutcome.stored(row.text(3), in: sql.location)
            let reason: RejectReason
            var message = row.text(4) ?? ""
            if let rejected = RejectReason(planned: planned) {
                reason = rejected
            } else {
                let failure = APIFailure(
                    status: row.int(6), code: row.text(7), message: row.text(8) ?? "", requestID: row.text(9))
                if row.text(5) == ApplicantState.failed.rawValue {
                    reason = .failed
                    message = failure.summary
                } else {
                    reason = .pending
                    message = "no definite answer yet (\(failure.summary)): run again to settle it"
                }
            }
            var reject = RejectRow(
                fileIndex: row.int(0) ?? 0, line: row.int(1) ?? 1, externalID: row.text(2), reason: reason,
                message: message, record: row.text(10))
            reject.layout = layouts[reject.fileIndex]
            try body(reject)
        }
    }

    /// Counts the rows of `runID` by what became of them.
    func counts(runID: Int64) throws -> RunCounts {
        var counts = RunCounts()
        // Existing rows are counted per input file, not kept row by row.
        let existing = try sql.row("SELECT sum(existing) FROM run_input WHERE run_id = ?", [runID])?.int(0) ?? 0
        counts.existing = existing
        counts.rowsRead = existing
        let rows = try sql.rows(
            """
            SELECT r.outcome, a.state, coalesce(i.carried, 0), count(*) FROM run_row r LEFT JOIN applicant a
                ON a.external_id = r.external_id AND r.outcome IN \(Self.sentOutcomes)
            LEFT JOIN run_input i ON i.run_id = r.run_id AND i.file_index = r.file_index
            WHERE r.run_id = ? GROUP BY r.outcome, a.state, coalesce(i.carried, 0)
            """,
            [runID])
        for row in rows {
            let planned = try PlannedOutcome.stored(row.text(0), in: sql.location)
            let state = row.text(1).flatMap(ApplicantState.init(rawValue:))
            let count = row.int(3) ?? 0
            // A carried-over row may have become `reissue` or `expired` since; its file says
            // it came from an earlier run.
            if row.bool(2) {
                counts.carriedOver += count
            } else {
                counts.rowsRead += count
            }
            switch (planned, state) {
            case (.create, .created), (.settle, .created), (.carried, .created): counts.created += count
            case (.reissue, .created): counts.reissued += count
            case (.settleChanged, .created), (.existing, _): counts.existing += count
            case (.failed, _): counts.failed += count
            case (.create, .failed), (.reissue, .failed), (.settle, .failed), (.settleChanged, .failed),
                (.carried, .failed):
                counts.failed += count
            case (.create, _), (.reissue, _), (.settle, _), (.settleChanged, _), (.carried, _): counts.pending += count
            case (.erased, _): counts.erased += count
            case (.invalid, _): counts.invalid += count
            case (.duplicate, _): counts.duplicate += count
            case (.expired, _): counts.expired += count
            }
        }
        return counts
    }
}
