/// Typed access to the columns of one answer row, by position: what ``ApplicantEntry`` is read
/// from, whether the row comes from SQLite's statement directly (``RawStatement``, the fast path
/// of a rerun's lookups) or from any backend (``LedgerRow``).
protocol LedgerColumns {
    func int64(_ column: Int32) -> Int64?
    func text(_ column: Int32) -> String?
}

extension RawStatement: LedgerColumns {}

extension LedgerRow: LedgerColumns {
    func int64(_ column: Int32) -> Int64? { int64(Int(column)) }
    func text(_ column: Int32) -> String? { text(Int(column)) }
}

extension ApplicantEntry {
    /// The columns a batch lookup selects after the id's place in the batch, in order.
    static let lookupColumns = """
        a.state, a.generation, a.expires_epoch, a.run_id, a.session_id, a.session_url, a.expires_at,
        CASE WHEN a.erased_epoch IS NOT NULL THEN 1 ELSE 0 END, a.session_status, a.decision
        """

    /// The entry in a lookup's answer row (``lookupColumns`` from column 1); nil for a state
    /// this tool does not know. The fingerprint and a failure's error are read apart, for the
    /// few applicants that need them.
    init?(lookup row: some LedgerColumns) {
        guard let state = row.text(1).flatMap(ApplicantState.init) else { return nil }
        self.init(
            state: state, generation: Int(row.int64(2) ?? 1), expiresEpoch: row.int64(3), runID: row.int64(4) ?? 0,
            erased: row.int64(8) == 1)
        if state == .created {
            sessionStatus = row.text(9)
            decision = row.text(10)
            if let sessionID = row.text(5), let url = row.text(6) {
                session = .init(id: sessionID, url: url, expiresAt: row.text(7), completed: hasCompleted)
            }
        }
    }
}
