import Foundation
import GRDB

extension SQLiteReading {
    /// The SQL condition for a run row that has a session (output), given `r` and `a`.
    private static let hasSession =
        "(a.session_url IS NOT NULL AND (r.outcome = 'existing' OR (r.outcome IN \(sentOutcomes) AND a.state = 'created')))"

    /// The run-row outcomes of rows sent in their run, as an SQL list.
    private static let sentOutcomes = "('create', 'reissue', 'settle', 'settle-changed', 'carried')"

    /// The output `status` of a row with a session, by its run-row outcome.
    private static func outputStatus(_ outcome: PlannedOutcome) -> OutputStatus {
        switch outcome {
        case .create, .settle, .carried: .created
        case .reissue: .reissued
        case .settleChanged, .existing, .invalid, .duplicate, .failed, .expired, .erased: .existing
        }
    }

    /// A run row's stored outcome; one this tool does not know is an error, not a guess.
    static func plannedOutcome(_ stored: String) throws -> PlannedOutcome {
        guard let outcome = PlannedOutcome(rawValue: stored) else {
            throw DatabaseError(message: "a run row has the unknown outcome '\(stored)'")
        }
        return outcome
    }

    /// Calls `body` with every output row of `runID` that the ledger holds, in input order (the
    /// run's existing rows are not among them: they are in its ``OutputSpool``).
    func forEachOutputRow(runID: Int64, _ body: (OutputRow) throws -> Void) throws {
        let layouts = try Self.layouts(db, runID: runID)
        let cursor = try Row.fetchCursor(
            db,
            sql: """
                SELECT r.seq, r.file_index, r.line, r.external_id, a.email, a.name, a.session_id,
                    a.session_url, a.expires_at, r.outcome, r.record
                FROM run_row r JOIN applicant a ON a.external_id = r.external_id
                WHERE r.run_id = ? AND \(Self.hasSession) ORDER BY r.seq
                """,
            arguments: [runID]
        )
        while let row = try cursor.next() {
            let outcome = try Self.plannedOutcome(row[9])
            var output = OutputRow(
                fileIndex: row[1], line: row[2], externalID: row[3], email: row[4], name: row[5],
                sessionID: row[6], sessionURL: row[7] ?? "", expiresAt: row[8],
                status: Self.outputStatus(outcome),
                record: row[10]
            )
            output.seq = row[0]
            output.layout = layouts[output.fileIndex]
            output.isNew = outcome != .existing
            try body(output)
        }
    }

    /// The headers of a run's CSV inputs, by file index.
    static func layouts(_ db: Database, runID: Int64) throws -> [Int: [String]] {
        var layouts: [Int: [String]] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT file_index, layout FROM run_input WHERE run_id = ? AND layout IS NOT NULL",
            arguments: [runID])
        {
            layouts[row[0]] = InputRecordText.values(row[1])
        }
        return layouts
    }

    /// Calls `body` with every applicant that has a session (and its link) and that
    /// `selection` takes, in the order they were first recorded, with the e-mail and name of the
    /// create that made it and what `sync` last heard of the session.
    func forEachSession(_ selection: SessionSelection, _ body: (OutputRow) throws -> Void) throws {
        let now = Int64(selection.now.timeIntervalSince1970)
        var conditions = ["state = 'created'", "session_url IS NOT NULL"]
        var arguments: [any DatabaseValueConvertible] = []
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
        let cursor = try Row.fetchCursor(
            db,
            sql: """
                SELECT external_id, email, name, session_id, session_url, expires_at, generation, session_status,
                    decision, completed_at
                FROM applicant WHERE \(conditions.joined(separator: " AND ")) ORDER BY rowid
                """,
            arguments: StatementArguments(arguments)
        )
        while let row = try cursor.next() {
            let generation: Int = row[6]
            let sessionStatus: String? = row[7]
            var output = OutputRow(
                fileIndex: -1, line: 0, externalID: row[0], email: row[1], name: row[2], sessionID: row[3],
                sessionURL: row[4], expiresAt: row[5],
                status: SessionReport.isCompleted(status: sessionStatus, decision: row[8])
                    ? .completed : generation > 1 ? .reissued : .created)
            output.sessionStatus = sessionStatus
            output.decision = row[8]
            output.completedAt = row[9]
            try body(output)
        }
    }

    /// Calls `body` with every rejected row of `runID`, in input order.
    func forEachReject(runID: Int64, _ body: (RejectRow) throws -> Void) throws {
        let layouts = try Self.layouts(db, runID: runID)
        let cursor = try Row.fetchCursor(
            db,
            sql: """
                SELECT r.file_index, r.line, r.external_id, r.outcome, r.message, a.state, a.error_status,
                    a.error_code, a.error_message, a.error_request_id, coalesce(r.record, p.record)
                FROM run_row r LEFT JOIN applicant a ON a.external_id = r.external_id
                    AND r.outcome IN \(Self.sentOutcomes)
                LEFT JOIN pending_create p ON p.external_id = a.external_id
                WHERE r.run_id = ? AND r.outcome <> 'existing'
                    AND NOT (r.outcome IN \(Self.sentOutcomes) AND a.state = 'created' AND a.session_url IS NOT NULL)
                ORDER BY r.seq
                """,
            arguments: [runID]
        )
        while let row = try cursor.next() {
            let planned = try Self.plannedOutcome(row[3])
            let reason: RejectReason
            var message: String = row[4] ?? ""
            if let rejected = RejectReason(planned: planned) {
                reason = rejected
            } else {
                let failure = APIFailure(status: row[6], code: row[7], message: row[8] ?? "", requestID: row[9])
                if row[5] == ApplicantState.failed.rawValue {
                    reason = .failed
                    message = failure.summary
                } else {
                    reason = .pending
                    message = "no definite answer yet (\(failure.summary)): run again to settle it"
                }
            }
            var reject = RejectRow(
                fileIndex: row[0], line: row[1], externalID: row[2], reason: reason, message: message,
                record: row[10])
            reject.layout = layouts[reject.fileIndex]
            try body(reject)
        }
    }

    /// Counts the rows of `runID` by what became of them.
    func counts(runID: Int64) throws -> RunCounts {
        var counts = RunCounts()
        // Existing rows are counted per input file, not kept row by row.
        let existing =
            try Int.fetchOne(db, sql: "SELECT sum(existing) FROM run_input WHERE run_id = ?", arguments: [runID])
            ?? 0
        counts.existing = existing
        counts.rowsRead = existing
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT r.outcome, a.state, coalesce(i.carried, 0), count(*) FROM run_row r LEFT JOIN applicant a
                    ON a.external_id = r.external_id AND r.outcome IN \(Self.sentOutcomes)
                LEFT JOIN run_input i ON i.run_id = r.run_id AND i.file_index = r.file_index
                WHERE r.run_id = ? GROUP BY r.outcome, a.state, coalesce(i.carried, 0)
                """,
            arguments: [runID]
        )
        for row in rows {
            let planned = try Self.plannedOutcome(row[0])
            let state = (row[1] as String?).flatMap(ApplicantState.init(rawValue:))
            let carried: Bool = row[2]
            let count: Int = row[3]
            // A carried-over row may have become `reissue` or `expired` since; its file says
            // it came from an earlier run.
            if carried {
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
