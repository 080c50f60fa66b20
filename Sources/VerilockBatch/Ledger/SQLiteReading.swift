import Foundation
import GRDB

/// ``LedgerReading`` for the SQLite ledger: one read transaction (one snapshot) on GRDB's
/// queue.
struct SQLiteReading: LedgerReading {
    let db: Database

    /// The input files of run `runID`, by file index.
    func inputFiles(runID: Int64) throws -> [RunInputFile] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT file_index, path, sha256, rows, existing, carried FROM run_input WHERE run_id = ?
                ORDER BY file_index
                """,
            arguments: [runID]
        ).map { row in
            RunInputFile(
                fileIndex: row[0], path: row[1], sha256: row[2], rows: row[3], existing: row[4], carried: row[5])
        }
    }

    /// The input-order places (`seq`) of the rows run `runID` recorded, ascending.
    func recordedSeqs(runID: Int64) throws -> [Int64] {
        try Int64.fetchAll(db, sql: "SELECT seq FROM run_row WHERE run_id = ? ORDER BY seq", arguments: [runID])
    }

    /// What the ledger knows of each of `externalIDs`, in the same order, read outside any run.
    func entries(for externalIDs: [String]) throws -> [ApplicantEntry?] {
        try SQLitePlanning(db: db, runID: 0).entries(for: externalIDs)
    }

    /// When the newest run of `job` that exited 0 ended.
    func lastSuccess(job: String) throws -> String? {
        try String.fetchOne(
            db, sql: "SELECT max(finished_at) FROM run WHERE job = ? AND exit_code = 0", arguments: [job])
    }

    /// The id of the newest run of `job` (of any job when nil).
    func lastRunID(job: String?) throws -> Int64? {
        if let job {
            return try Int64.fetchOne(db, sql: "SELECT max(id) FROM run WHERE job = ?", arguments: [job])
        }
        return try Int64.fetchOne(db, sql: "SELECT max(id) FROM run")
    }
}
