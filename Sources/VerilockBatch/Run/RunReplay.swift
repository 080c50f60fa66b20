import Foundation

/// The existing rows of an earlier run, which the ledger counts but does not keep row by row:
/// the run's input files are read again (they must be unchanged: same SHA-256, same rows) and
/// each row the run did not record is looked up, for `export --run`. Used inside
/// ``Ledger/reading(_:)``, on the ledger's own thread.
public struct RunReplay {
    let job: JobConfiguration
    let ledger: any LedgerReading
    let runID: Int64

    /// A replay of run `runID` with `job`'s input settings (format, encoding, columns, shard).
    public init(job: JobConfiguration, ledger: any LedgerReading, runID: Int64) {
        self.job = job
        self.ledger = ledger
        self.runID = runID
    }

    /// Adds the run's existing rows to `spool`, in input order, each with its applicant's
    /// current session; returns how many. Nothing to read when the run had none.
    @discardableResult
    public func existingRows(into spool: OutputSpool) throws -> Int {
        let files = try ledger.inputFiles(runID: runID).filter { !$0.carried }
        guard files.contains(where: { ($0.existing ?? 0) > 0 }) else { return 0 }
        for file in files {
            guard file.path != "-", file.sha256 != nil else {
                throw ReplayError(runID: runID, path: file.path, reason: "it was read from standard input")
            }
            guard FileManager.default.fileExists(atPath: file.path) else {
                throw ReplayError(runID: runID, path: file.path, reason: "it no longer exists")
            }
        }
        let recorded = try ledger.recordedSeqs(runID: runID)
        var next = 0
        var count = 0
        var inFile = 0
        let channel = BatchChannel<InputBatch>(capacity: 4)
        InputReader(job: job, paths: files.map(\.path), control: RunControl()).start(into: channel)
        defer { channel.cancel() }
        while let batch = try channel.receive() {
            var candidates: [(row: InputBatch.Row, externalID: String)] = []
            for row in batch.rows {
                while next < recorded.count && recorded[next] < row.seq { next += 1 }
                if next < recorded.count && recorded[next] == row.seq { continue }
                if case .success(let applicant) = row.mapped { candidates.append((row, applicant.externalID)) }
            }
            let entries = try ledger.entries(for: candidates.map(\.externalID))
            let keepsRecord = !job.mapping.passthrough.isEmpty
            for ((row, externalID), entry) in zip(candidates, entries) {
                guard let session = entry?.session,
                    case .success(let applicant) = row.mapped
                else {
                    continue
                }
                try spool.append(
                    .existing(
                        seq: row.seq, fileIndex: files[batch.fileIndex].fileIndex, line: row.line,
                        externalID: externalID, email: applicant.email, name: applicant.name, session: session,
                        record: keepsRecord ? batch.mapper.recordText(row.content) : nil,
                        layout: batch.mapper.recordLayout))
                count += 1
                inFile += 1
            }
            if let end = batch.fileEnd {
                let file = files[batch.fileIndex]
                guard end.sha256 == file.sha256 else {
                    throw ReplayError(runID: runID, path: file.path, reason: "it changed since (its SHA-256 differs)")
                }
                guard file.rows == nil || end.rows == file.rows else {
                    throw ReplayError(
                        runID: runID, path: file.path,
                        reason: "the job reads \(end.rows) rows from it where the run read \(file.rows ?? 0): "
                            + "its input settings or shard differ")
                }
                guard file.existing == nil || inFile == file.existing else {
                    throw ReplayError(
                        runID: runID, path: file.path,
                        reason: "\(file.existing ?? 0) of its rows had a session, and the ledger now gives \(inFile): "
                            + "the run's history was pruned, or applicants erased, since")
                }
                inFile = 0
            }
        }
        return count
    }
}
