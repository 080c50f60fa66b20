import Foundation

/// Reads and validates a run's input files on a thread of its own, in batches, and finds the
/// rows whose external_id occurred earlier in the run (``SeenIDs``), while the ledger's thread
/// plans the batches before: parsing and ledger work overlap on two cores.
struct InputReader: Sendable {
    let job: JobConfiguration
    let paths: [String]
    let control: RunControl

    /// Rows per batch: one ledger lookup statement each.
    static let batchSize = SQLitePlanning.lookupBatch

    /// Starts reading into `channel`; it ends with the last batch, or with the reader's error
    /// (an unreadable input, a stop request).
    func start(into channel: BatchChannel<InputBatch>) {
        let thread = Thread {
            do {
                try read(into: channel)
                channel.finish()
            } catch {
                channel.finish(throwing: error)
            }
        }
        thread.name = "verilock-batch input"
        thread.start()
    }

    /// The rows a file of `size` bytes likely holds, from its first `rows` rows (`bytes` long),
    /// with a tenth to spare; at most ``maxReserved``, so that a file whose first rows are
    /// unusually short cannot make the reader set aside much more than it needs (beyond that,
    /// the set grows as it fills). Without a size, just `rows`.
    static func expectedRows(after rows: Int, bytes: Int64, of size: Int64?) -> Int {
        guard let size, bytes > 0 else { return rows }
        let estimate = Double(size) / Double(bytes) * Double(rows) * 1.1
        return Int(min(estimate, Double(maxReserved)))
    }

    /// The most ids room is made for in advance (a table of 64 MB).
    static let maxReserved = 2_000_000

    private func read(into channel: BatchChannel<InputBatch>) throws {
        var seq: Int64 = 0
        var otherShards = 0
        var seen = SeenIDs()
        var reserved = false
        var bytesBefore: Int64 = 0
        for (fileIndex, path) in paths.enumerated() {
            let source = try ByteChunkReader(path: path, encoding: job.encoding, compression: job.compression)
            var records = try RecordSource(source: source, format: job.format.resolved(for: path), job: job)
            var batch = InputBatch(fileIndex: fileIndex, mapper: records.mapper, startsFile: true)
            batch.rows.reserveCapacity(Self.batchSize)
            var rows = 0
            let firstChunk = source.bytesRead
            while let record = try records.next() {
                if rows % 4096 == 0, let reason = control.stopReason { throw RunInterrupted(reason: reason) }
                let mapped = records.mapper.map(record.content)
                if let shard = job.shard, !InputStage.belongs(mapped, to: shard) {
                    otherShards += 1
                    continue
                }
                var row = InputBatch.Row(seq: seq, line: record.line, mapped: mapped, content: record.content)
                if case .success(let applicant) = mapped {
                    row.externalID = applicant.externalID
                    row.firstSeen = seen.firstPlace(of: applicant.externalID, fileIndex: fileIndex, line: record.line)
                }
                batch.rows.append(row)
                seq += 1
                rows += 1
                // When the first file's second chunk is read, its first chunk's rows tell how
                // many ids that file holds, to make room for them.
                if fileIndex == 0, !reserved, source.bytesRead > firstChunk {
                    reserved = true
                    seen.reserve(Self.expectedRows(after: rows, bytes: firstChunk, of: source.size))
                }
                if batch.rows.count == Self.batchSize {
                    batch.bytesRead = bytesBefore + source.bytesRead
                    batch.otherShards = otherShards
                    guard channel.send(batch) else { return }
                    batch = InputBatch(fileIndex: fileIndex, mapper: records.mapper)
                    batch.rows.reserveCapacity(Self.batchSize)
                }
            }
            bytesBefore += source.bytesRead
            batch.bytesRead = bytesBefore
            batch.otherShards = otherShards
            batch.fileEnd = .init(sha256: path == "-" ? nil : source.sha256(), rows: rows)
            guard channel.send(batch) else { return }
        }
    }
}
