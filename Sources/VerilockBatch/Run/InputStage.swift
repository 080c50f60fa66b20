import Foundation
import Logging

/// Stages 1 to 3 of a run: read every input, validate each row, dedupe it against this run and
/// the ledger, and record its plan (and, for rows to send, the intent) in the ledger.
///
/// The input is read on a thread of its own (``InputReader``) while this stage, on the ledger's
/// thread, looks each batch up in one statement, plans it (``RunPlanner``) and records it, all in
/// the caller's one transaction: if an input turns out unreadable half-way, nothing of this run
/// is recorded and nothing is sent. Existing rows go to the ``OutputSpool``, not the ledger.
struct InputStage {
    let job: JobConfiguration
    let runID: Int64
    let now: Date
    let control: RunControl
    let logger: Logger

    /// Expands globs; a pattern that matches nothing, or a missing file, is an error.
    static func expandInputs(_ patterns: [String]) throws(InputError) -> [String] {
        var paths: [String] = []
        for pattern in patterns {
            if pattern == "-" || !pattern.contains(where: { "*?[".contains($0) }) {
                if pattern != "-" && !FileManager.default.fileExists(atPath: pattern) { throw .missing(path: pattern) }
                paths.append(pattern)
                continue
            }
            var result = glob_t()
            defer { globfree(&result) }
            guard glob(pattern, 0, nil, &result) == 0 else { throw .missing(path: pattern) }
            var matches: [String] = []
            for index in 0..<Int(result.gl_pathc) {
                if let pointer = result.gl_pathv[index] { matches.append(String(cString: pointer)) }
            }
            paths.append(contentsOf: matches.sorted())
        }
        return paths
    }

    /// Whether a row belongs to `shard`; a row without a readable external_id goes to shard 1.
    static func belongs(_ mapped: Result<ApplicantRow, RowRejection>, to shard: Shard) -> Bool {
        switch mapped {
        case .success(let row): shard.contains(row.externalID)
        case .failure(let rejection): rejection.externalID.map(shard.contains) ?? (shard.index == 1)
        }
    }

    /// Reads `paths` and records every row through `planning` (inside the caller's transaction);
    /// existing rows go to `spool` when there is one. Returns the rows by planned outcome.
    /// `progress` hears after every batch.
    func run(
        paths: [String],
        planning: any LedgerPlanning,
        spool: OutputSpool?,
        progress: (PlanCounts, _ bytesRead: Int64) -> Void = { _, _ in }
    ) throws -> PlanCounts {
        let planner = RunPlanner(
            template: job.template,
            policy: job.policy,
            nowEpoch: Int64(now.timeIntervalSince1970),
            undelivered: try planning.undeliveredRuns(),
            paths: paths,
            keepsEveryRecord: !job.mapping.passthrough.isEmpty
        )
        let channel = BatchChannel<InputBatch>(capacity: 4)
        InputReader(job: job, paths: paths, control: control).start(into: channel)
        defer { channel.cancel() }
        var counts = PlanCounts()
        var existingInFile = 0
        var bytesRead: Int64 = 0
        var ids: [String] = []
        var plans: [PlannedRow] = []
        while let batch = try channel.receive() {
            if batch.startsFile {
                existingInFile = 0
                logger.info(
                    "reading input",
                    metadata: [
                        "file": "\(paths[batch.fileIndex])",
                        "format": "\(job.format.resolved(for: paths[batch.fileIndex]).rawValue)",
                    ])
                if let layout = batch.mapper.recordLayout {
                    try planning.recordLayout(fileIndex: batch.fileIndex, columns: layout)
                }
            }
            ids.removeAll(keepingCapacity: true)
            for row in batch.rows {
                if case .success(let applicant) = row.mapped { ids.append(applicant.externalID) }
            }
            let entries = try planning.entries(for: ids)
            plans.removeAll(keepingCapacity: true)
            for row in batch.rows {
                let known: ApplicantEntry? =
                    if case .success(let applicant) = row.mapped { entries[ExternalIDKey(applicant.externalID)] } else {
                        nil
                    }
                plans.append(
                    planner.plan(
                        seq: row.seq, fileIndex: batch.fileIndex, line: row.line, mapped: row.mapped,
                        firstSeen: row.firstSeen, entry: known,
                        record: { batch.mapper.recordText(row.content) }))
            }
            try planning.record(plans, now: now)
            for plan in plans {
                counts.add(plan.outcome)
                guard plan.outcome == .existing else {
                    if plan.outcome == .settleChanged, let externalID = plan.externalID {
                        logger.notice(
                            "data changed while a create was in doubt; settling it with the data first sent",
                            metadata: [
                                "file": "\(paths[plan.fileIndex])", "line": "\(plan.line)",
                                "external_id": "\(externalID)",
                            ])
                    }
                    continue
                }
                existingInFile += 1
                if let spool, let session = plan.session {
                    var output = OutputRow(
                        fileIndex: plan.fileIndex, line: plan.line, externalID: plan.externalID ?? "",
                        email: plan.email,
                        name: plan.name, sessionID: session.id, sessionURL: session.url, expiresAt: session.expiresAt,
                        status: "existing", record: plan.record)
                    output.seq = plan.seq
                    try spool.append(output)
                }
            }
            if let end = batch.fileEnd {
                try planning.recordInputRead(
                    fileIndex: batch.fileIndex, sha256: end.sha256, rows: end.rows, existing: existingInFile)
            }
            counts.otherShards = batch.otherShards
            bytesRead = batch.bytesRead
            progress(counts, bytesRead)
        }
        (counts.carriedOver, counts.carriedPending) = try planning.recordCarriedOver(
            firstSeq: Int64(counts.rows), firstFileIndex: paths.count)
        progress(counts, bytesRead)
        return counts
    }
}
