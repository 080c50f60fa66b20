/// A read-only view of one consistent state of a ledger, used synchronously on the ledger's own
/// thread (``Ledger/reading(_:)``): what the output, rejects and export files are made from.
///
/// The SQLite ledger implements it (``SQLiteReading``).
public protocol LedgerReading {
    /// The input files of run `runID`, by file index.
    func inputFiles(runID: Int64) throws -> [RunInputFile]

    /// The input-order places (`seq`) of the rows run `runID` recorded, ascending.
    func recordedSeqs(runID: Int64) throws -> [Int64]

    /// What the ledger knows of each of `externalIDs`, in the same order (nil: an applicant it
    /// does not know).
    func entries(for externalIDs: [String]) throws -> [ApplicantEntry?]

    /// When the newest run of `job` that exited 0 ended.
    func lastSuccess(job: String) throws -> String?

    /// The id of the newest run of `job` (of any job when nil).
    func lastRunID(job: String?) throws -> Int64?

    /// Calls `body` with every output row of `runID` that the ledger holds, in input order (the
    /// run's existing rows are not among them: they are in its ``OutputSpool``).
    func forEachOutputRow(runID: Int64, _ body: (OutputRow) throws -> Void) throws

    /// Calls `body` with every applicant that has a session (and its link) and that
    /// `selection` takes, in the order they were first recorded, with the e-mail and name of the
    /// create that made it and what `sync` last heard of the session.
    func forEachSession(_ selection: SessionSelection, _ body: (OutputRow) throws -> Void) throws

    /// Calls `body` with every rejected row of `runID`, in input order.
    func forEachReject(runID: Int64, _ body: (RejectRow) throws -> Void) throws

    /// Counts the rows of `runID` by what became of them.
    func counts(runID: Int64) throws -> RunCounts
}

extension LedgerReading {
    /// The input paths of run `runID`, by file index.
    public func inputPaths(runID: Int64) throws -> [String] {
        try inputFiles(runID: runID).map(\.path)
    }
}
