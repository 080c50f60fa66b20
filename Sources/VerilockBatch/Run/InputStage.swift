import Foundation
import GRDB
import Logging

/// Stages 1 to 3 of a run: read every input, validate each row, dedupe it against this run and
/// the ledger, and record its plan (and, for rows to send, the intent) in the ledger.
///
/// The whole stage runs in one ledger transaction (the caller's): if an input turns out
/// unreadable half-way, nothing of this run is recorded and nothing is sent.
struct InputStage {
    let job: JobConfiguration
    let runID: Int64
    let now: Date
    let control: RunControl
    let logger: Logger

    /// Rows per ledger batch; the transaction spans them all.
    static let batchSize = 2048

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

    /// Reads `paths` and records every row in `db` (inside the caller's transaction); returns
    /// the rows by planned outcome. `progress` hears every few thousand rows.
    func run(
        paths: [String],
        in db: Database,
        progress: (PlanCounts, _ bytesRead: Int64) -> Void = { _, _ in }
    ) throws -> PlanCounts {
        let nowEpoch = Int64(now.timeIntervalSince1970)
        let stamp = Timestamp.string(now)
        let rows = LedgerRows(db: db, runID: runID)
        let undelivered = try rows.undeliveredRuns()
        var counts = PlanCounts()
        var bytesBefore: Int64 = 0
        for (fileIndex, path) in paths.enumerated() {
            let source = try ByteChunkReader(path: path, encoding: job.encoding)
            let format = job.format.resolved(for: path)
            logger.info("reading input", metadata: ["file": "\(path)", "format": "\(format.rawValue)"])
            var records = try RecordSource(source: source, format: format, job: job)
            while let record = try records.next() {
                if counts.rows % 4096 == 0 {
                    if let reason = control.stopReason { throw RunInterrupted(reason: reason) }
                    progress(counts, bytesBefore + source.bytesRead)
                }
                let mapped = records.mapper.map(record.content)
                if let shard = job.shard, !Self.belongs(mapped, to: shard) {
                    counts.otherShards += 1
                    continue
                }
                let outcome = try plan(
                    record, mapped: mapped, mapper: records.mapper, fileIndex: fileIndex, seq: Int64(counts.rows),
                    rows: rows, undelivered: undelivered, nowEpoch: nowEpoch, stamp: stamp, paths: paths)
                counts.add(outcome)
            }
            bytesBefore += source.bytesRead
        }
        (counts.carriedOver, counts.carriedPending) = try rows.recordCarriedOver(
            firstSeq: Int64(counts.rows), firstFileIndex: paths.count)
        progress(counts, bytesBefore)
        return counts
    }

    /// Whether a row belongs to `shard`; a row without a readable external_id goes to shard 1.
    static func belongs(_ mapped: Result<ApplicantRow, RowRejection>, to shard: Shard) -> Bool {
        switch mapped {
        case .success(let row): shard.contains(row.externalID)
        case .failure(let rejection): rejection.externalID.map(shard.contains) ?? (shard.index == 1)
        }
    }

    private func plan(
        _ raw: RawRecord,
        mapped: Result<ApplicantRow, RowRejection>,
        mapper: RowMapper,
        fileIndex: Int,
        seq: Int64,
        rows: LedgerRows,
        undelivered: Set<Int64>,
        nowEpoch: Int64,
        stamp: String,
        paths: [String]
    ) throws -> PlannedOutcome {
        var entry = RunRowRecord(seq: seq, fileIndex: fileIndex, line: raw.line, outcome: .invalid)
        let row: ApplicantRow
        switch mapped {
        case .failure(let rejection):
            entry.externalID = rejection.externalID
            entry.message = rejection.message
            entry.record = InputRecordText.encode(mapper.inputRecord(raw.content))
            _ = try rows.insert(entry)
            return .invalid
        case .success(let mapped):
            row = mapped
        }
        entry.externalID = row.externalID
        entry.email = row.email
        entry.name = row.name
        // The request body is built only for rows that need it: its fingerprint for a row that
        // failed before (to see whether its data changed), the body itself for a row to send.
        // Existing rows, nearly all of a nightly rerun, need neither.
        let template = job.template
        let known = try rows.entry(row.externalID)
        let plan = RowPlan.plan(
            entry: known,
            fingerprint: { SHA256.hexDigest(template.requestBody(for: row)) },
            nowEpoch: nowEpoch,
            policy: job.policy
        )
        let generation: Int?
        switch plan {
        case .create(let next):
            entry.outcome = .create
            generation = next
        case .settle(let next):
            // Settled with the body it was first sent with; the new data counts only afterwards.
            let changed = SHA256.hexDigest(template.requestBody(for: row)) != known?.fingerprint
            entry.outcome = changed ? .settleChanged : .settle
            if changed {
                entry.message =
                    "the row's data changed while its first create was in doubt: that create is settled with the "
                    + "data first sent, and the session it made is kept"
            }
            generation = next
        case .reissue(let next):
            entry.outcome = .reissue
            generation = next
        case .existing where known.map { undelivered.contains($0.runID) } == true:
            // Made by a run that died before writing its output: nobody has this link yet.
            entry.outcome = .settle
            generation = nil
        case .existing:
            entry.outcome = .existing
            generation = nil
        case .expired:
            entry.outcome = .expired
            entry.message = "the link has expired and policy.reissue_expired is off"
            generation = nil
        case .failedBefore(let failure):
            entry.outcome = .failed
            entry.message = "failed before, data unchanged (\(failure.summary)): fix the row or set policy.retry_failed"
            generation = nil
        }
        // The input record is kept where it may be needed: rows that may end in the rejects file
        // (all but existing ones), and every row when the output passes input columns through.
        if entry.outcome != .existing || !job.mapping.passthrough.isEmpty {
            entry.record = InputRecordText.encode(mapper.inputRecord(raw.content))
        }
        // A row to send records its intent before its run row (which must refer to an applicant),
        // unless its external_id already occurred in this run.
        let duplicateOf = generation == nil ? nil : try rows.firstOccurrence(row.externalID)
        if duplicateOf == nil, let generation, entry.outcome != .settle, entry.outcome != .settleChanged {
            let body = template.requestBody(for: row)
            try rows.recordIntent(
                externalID: row.externalID,
                generation: generation,
                idempotencyKey: template.idempotencyKey(externalID: row.externalID, generation: generation),
                fingerprint: SHA256.hexDigest(body),
                body: body,
                now: stamp
            )
        } else if duplicateOf == nil, entry.outcome == .settle || entry.outcome == .settleChanged {
            try rows.claimPending(row.externalID, now: stamp)
            if generation == nil { try rows.claimDelivery(row.externalID, now: stamp) }
        }
        guard duplicateOf == nil, try rows.insert(entry) else {
            let first = try duplicateOf ?? rows.firstOccurrence(row.externalID)
            entry.outcome = .duplicate
            entry.email = nil
            entry.name = nil
            let place = first.map { "\(paths[$0.fileIndex]):\($0.line)" } ?? "an earlier line"
            entry.message = "duplicate external_id \(RowValidation.quoted(row.externalID)): first seen at \(place)"
            _ = try rows.insert(entry)
            return .duplicate
        }
        if entry.outcome == .settleChanged {
            logger.notice(
                "data changed while a create was in doubt; settling it with the data first sent",
                metadata: ["file": "\(paths[fileIndex])", "line": "\(raw.line)", "external_id": "\(row.externalID)"])
        }
        return entry.outcome
    }
}

/// Rows of a run by planned outcome, counted while they are read.
public struct PlanCounts: Sendable, Equatable {
    /// Rows read and recorded (of this shard).
    public var rows = 0
    /// Rows skipped because they belong to other shards.
    public var otherShards = 0
    /// Rows not in this run's input that are written all the same: creates left pending by
    /// earlier runs, and sessions made by runs that died before writing their output.
    public var carriedOver = 0
    /// The carried-over rows that are pending creates, to send.
    public var carriedPending = 0
    /// Rows by planned outcome.
    public var byOutcome: [PlannedOutcome: Int] = [:]

    mutating func add(_ outcome: PlannedOutcome) {
        rows += 1
        byOutcome[outcome, default: 0] += 1
    }

    /// Rows to send (create, reissue, settle), carried-over ones included.
    public var toSend: Int { byOutcome.filter(\.key.isSent).map(\.value).reduce(carriedPending, +) }
    /// Rows with a valid session already.
    public var existing: Int { byOutcome[.existing] ?? 0 }
    /// Rows rejected while planning.
    public var rejected: Int { rows + carriedPending - toSend - existing }
}

/// The records of one input file, with the mapper for its layout.
private struct RecordSource {
    private enum Reader {
        case csv(CSVReader)
        case ndjson(NDJSONReader)
    }

    private var reader: Reader
    let mapper: RowMapper

    init(source: ByteChunkReader, format: InputFormat, job: JobConfiguration) throws {
        switch format {
        case .ndjson:
            reader = .ndjson(NDJSONReader(source: source))
            mapper = RowMapper(ndjsonMapping: job.mapping)
        case .csv, .auto:
            let csv = try CSVReader(source: source, delimiter: job.delimiter)
            mapper = try RowMapper(csvHeader: csv.header, mapping: job.mapping, path: source.path)
            reader = .csv(csv)
        }
    }

    mutating func next() throws -> RawRecord? {
        switch reader {
        case .csv(var csv):
            defer { reader = .csv(csv) }
            return try csv.next()
        case .ndjson(var ndjson):
            defer { reader = .ndjson(ndjson) }
            return try ndjson.next()
        }
    }
}
