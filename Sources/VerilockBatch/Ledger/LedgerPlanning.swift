import Foundation

/// One run's planning transaction (stages 1 to 3): what the input stage asks of a ledger, as
/// typed operations. Everything recorded through it commits together, or not at all.
///
/// The SQLite ledger implements it (``SQLitePlanning``); it is the seam another backend plugs
/// into.
public protocol LedgerPlanning {
    /// Runs that died, or could not write their files (exit 73), before their output was
    /// written: the sessions they made have reached nobody yet.
    func undeliveredRuns() throws -> Set<Int64>

    /// What the ledger knows of each of `externalIDs`, in the same order (nil: an applicant it
    /// does not know), by the ids' bytes; one statement for the whole batch.
    func entries(for externalIDs: [String]) throws -> [ApplicantEntry?]

    /// Records planned rows, in order: each intent (before anything is sent), each claim, and
    /// every row but existing ones in the run's history.
    func record(_ plans: [PlannedRow], now: Date) throws

    /// Records an input file's header, once, for the records of its rows.
    func recordLayout(fileIndex: Int, columns: [String]) throws

    /// Records what an input file held when it was read: its SHA-256 (nil for standard input),
    /// its rows of this shard, and how many of them already had a session.
    func recordInputRead(fileIndex: Int, sha256: String?, rows: Int, existing: Int) throws

    /// Records, after this run's input rows, a row for every applicant not in this run's input
    /// who must be in its files: a create still pending, and a session made by a run that died
    /// before it wrote its output; of `shard`'s applicants only, for a sharded run, and never
    /// one a run still going on another connection holds. Returns how many rows were carried
    /// over, and how many of them are pending creates to send.
    func recordCarriedOver(firstSeq: Int64, firstFileIndex: Int, shard: Shard?) throws -> (rows: Int, pending: Int)

    /// The rows of this run that are rejected so far, in input order (for a dry run).
    func forEachPlannedReject(_ body: (RejectRow) throws -> Void) throws
}
