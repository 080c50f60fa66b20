import Foundation

/// Formats a run's existing rows into its ``OutputSpool`` on a thread of its own, so that the
/// ledger's thread only looks rows up, plans and records them.
///
/// The ledger's thread hands over each planned batch (``send(_:plans:)``); this thread
/// writes the batch's existing rows in order, and the batch is freed here too. ``finish()``
/// waits until every batch sent is in the spool, and throws the spool's write error if there
/// was one.
final class SpoolWriter: @unchecked Sendable {
    /// One planned batch: the rows as read, and their plans.
    private struct Planned: Sendable {
        var batch: InputBatch
        var plans: [PlannedRow]
    }

    private let spool: OutputSpool
    private let channel = BatchChannel<Planned>(capacity: 4)
    private let condition = NSCondition()
    /// How the thread ended: nil while it runs.
    private var ended: Result<Void, FileWriteError>?

    /// Starts the thread writing to `spool`.
    init(spool: OutputSpool) {
        self.spool = spool
        let thread = Thread { [self] in
            let result = Result { () throws(FileWriteError) in try write() }
            if case .failure = result { channel.cancel() }
            condition.lock()
            ended = result
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "verilock-batch spool"
        thread.start()
    }

    private func write() throws(FileWriteError) {
        while let planned = try? channel.receive() {
            for plan in planned.plans where plan.outcome == .existing {
                guard let session = plan.session else { continue }
                try spool.append(
                    .existing(
                        seq: plan.seq, fileIndex: plan.fileIndex, line: plan.line, externalID: plan.externalID ?? "",
                        email: plan.email, name: plan.name, session: session, record: plan.record,
                        layout: planned.batch.mapper.recordLayout))
            }
        }
        try spool.flush()
    }

    /// Hands over a planned batch; throws the spool's write error if writing has failed.
    func send(_ batch: InputBatch, plans: [PlannedRow]) throws(FileWriteError) {
        if !channel.send(Planned(batch: batch, plans: plans)) { try finish() }
    }

    /// Ends the hand-over without waiting: the thread writes what it was given, then stops.
    func close() {
        channel.finish()
    }

    /// Waits until every batch sent is in the spool; throws the spool's write error.
    func finish() throws(FileWriteError) {
        close()
        condition.lock()
        while ended == nil { condition.wait() }
        let result = ended
        condition.unlock()
        try result?.get()
    }
}
