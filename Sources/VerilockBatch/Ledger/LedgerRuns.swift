import Foundation

/// A run's start and end as the ledger records them, the same for every backend
/// (``LedgerSQL``), inside the caller's transaction.
struct LedgerRuns {
    let sql: any LedgerSQL

    /// Records the start of a run of `job` and its inputs; returns the run's id.
    func start(job: String, inputs: [(path: String, size: Int64?)], simulated: Bool, now: Date) throws -> Int64 {
        let connection = sql.dialect.runConnection
        guard
            let runID = try sql.row(
                """
                INSERT INTO run (job, started_at, host, pid, simulated\(connection.map { ", " + $0.column } ?? ""))
                VALUES (?, ?, ?, ?, ?\(connection.map { ", " + $0.value } ?? "")) RETURNING id
                """,
                [job, Timestamp.string(now), ProcessInfo.processInfo.hostName, Int(getpid()), simulated]
            )?.int64(0)
        else {
            throw LedgerError.database(path: sql.location, reason: "the new run got no id")
        }
        for (index, input) in inputs.enumerated() {
            try sql.execute(
                "INSERT INTO run_input (run_id, file_index, path, size) VALUES (?, ?, ?, ?)",
                [runID, index, input.path, input.size])
        }
        return runID
    }

    /// Records how run `runID` ended.
    func finish(_ runID: Int64, exitCode: Int32, counts: RunCounts, now: Date) throws {
        let json = String(decoding: (try? JSONEncoder().encode(counts)) ?? Data("{}".utf8), as: UTF8.self)
        try sql.execute(
            "UPDATE run SET finished_at = ?, exit_code = ?, counts = ? WHERE id = ?",
            [Timestamp.string(now), Int(exitCode), json, runID])
    }
}
