import Foundation
import Logging

/// Stages 1 to 3 of a run: read every input, validate each row, dedupe it against this run and
/// the ledger, and record its plan (and, for rows to send, the intent) in the ledger.
///
/// The input is read on a thread of its own (``InputReader``) while this stage, on the ledger's
/// thread, looks each batch up in one statement, plans it (``RunPlanner``) and records it, all in
/// the caller's one transaction: if an input turns out unreadable half-way, nothing of this run
/// is recorded and nothing is sent. Existing rows go to the ``OutputSpool``, not the ledger,
/// formatted on a third thread (``SpoolWriter``).
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
        let spooler = spool.map(SpoolWriter.init)
        defer { spooler?.close() }
        var counts = PlanCounts()
        var existingInFile = 0
        var bytesRead: Int64 = 0
        var ids: [String] = []
        var places: [Int] = []
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
            // Each valid row's id, and where its entry is in the lookup's answer.
            ids.removeAll(keepingCapacity: true)
            places.removeAll(keepingCapacity: true)
            for index in batch.rows.indices {
                if let externalID = batch.rows[index].externalID {
                    places.append(ids.count)
                    ids.append(externalID)
                } else {
                    places.append(-1)
                }
            }
            let entries = try planning.entries(for: ids)
            var plans: [PlannedRow] = []
            plans.reserveCapacity(batch.rows.count)
            for index in batch.rows.indices {
                plans.append(
                    planner.plan(
                        seq: batch.rows[index].seq, fileIndex: batch.fileIndex, line: batch.rows[index].line,
                        mapped: batch.rows[index].mapped, firstSeen: batch.rows[index].firstSeen,
                        entry: places[index] < 0 ? nil : entries[places[index]],
                        record: { batch.mapper.recordText(batch.rows[index].content) }))
            }
            try planning.record(plans, now: now)
            for index in plans.indices {
                let outcome = plans[index].outcome
                counts.add(outcome)
                guard outcome == .existing else {
                    let plan = plans[index]
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
            }
            if let end = batch.fileEnd {
                try planning.recordInputRead(
                    fileIndex: batch.fileIndex, sha256: end.sha256, rows: end.rows, existing: existingInFile)
            }
            counts.otherShards = batch.otherShards
            bytesRead = batch.bytesRead
            progress(counts, bytesRead)
            // The existing rows' output lines are made on the spool's thread, which frees the batch too.
            try spooler?.send(batch, plans: plans)
        }
        try spooler?.finish()
        (counts.carriedOver, counts.carriedPending) = try planning.recordCarriedOver(
            firstSeq: Int64(counts.rows), firstFileIndex: paths.count, shard: job.shard)
        progress(counts, bytesRead)
        return counts
    }
}
