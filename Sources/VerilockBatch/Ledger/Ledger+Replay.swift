import GRDB

extension Ledger {
    /// The input files of run `runID`, by file index.
    public func inputFiles(runID: Int64) throws -> [RunInputFile] {
        try read { db in
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
    }

    /// The input-order places (`seq`) of the rows run `runID` recorded, ascending.
    public func recordedSeqs(runID: Int64) throws -> [Int64] {
        try read { db in
            try Int64.fetchAll(db, sql: "SELECT seq FROM run_row WHERE run_id = ? ORDER BY seq", arguments: [runID])
        }
    }

    /// What the ledger knows of each of `externalIDs`, in the same order, read outside any run.
    public func entries(for externalIDs: [String]) throws -> [ApplicantEntry?] {
        try read { db in try SQLitePlanning(db: db, runID: 0).entries(for: externalIDs) }
    }
}
