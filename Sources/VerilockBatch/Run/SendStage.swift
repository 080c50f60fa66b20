import Foundation
import Logging

/// What the send stage did, for the report.
public struct SendStats: Sendable, Equatable {
    /// Rows whose create was attempted.
    public var rows = 0
    /// HTTP requests sent.
    public var requests = 0
    /// Requests sent again after a retryable answer.
    public var retries = 0
    /// 429 answers.
    public var rateLimited = 0
    /// Answers by HTTP status ("0" where none came).
    public var statuses: [String: Int] = [:]

    mutating func add(_ result: SendResult) {
        rows += 1
        requests += result.statuses.count
        retries += result.retries
        rateLimited += result.rateLimited
        for status in result.statuses { statuses[String(status), default: 0] += 1 }
    }
}

/// Stages 4 and 5 of a run: send every pending create (this run's and any left by an earlier
/// run) with at most `concurrency` in flight, and record each outcome in the ledger.
///
/// One task group; each child sends one row and returns its result, never throwing. The parent
/// alone records outcomes, in batches. A key refusal (401/402/403) cancels the rest: rows whose
/// answer never came stay pending for the next run.
struct SendStage<C: Clock>: Sendable where C.Duration == Duration {
    let ledger: Ledger
    let runID: Int64
    let sender: SessionSender<C>
    let concurrency: Int
    let now: @Sendable () -> Date
    let logger: Logger

    /// Outcomes recorded per ledger transaction.
    static var recordBatch: Int { 64 }

    /// Sends everything pending; returns the stats and the error that stopped the run, if any.
    func run(progress: @escaping (SendStats) -> Void = { _ in }) async throws -> (SendStats, APIError?) {
        var stats = SendStats()
        var stop: APIError?
        var pendingPage: [PendingCreate] = []
        var lastRowID: Int64 = 0
        var exhausted = false

        func nextPending() throws -> PendingCreate? {
            if pendingPage.isEmpty && !exhausted {
                pendingPage = try ledger.pendingCreates(after: lastRowID, limit: 512).reversed()
                if let last = pendingPage.first { lastRowID = last.rowID } else { exhausted = true }
            }
            return pendingPage.popLast()
        }

        try await withThrowingTaskGroup(of: (PendingCreate, Result<SendResult, APIError>).self) { group in
            let sender = self.sender
            func addNext() throws -> Bool {
                guard stop == nil, let next = try nextPending() else { return false }
                group.addTask {
                    do throws(APIError) {
                        return (next, .success(try await sender.send(next.request)))
                    } catch {
                        return (next, .failure(error))
                    }
                }
                return true
            }
            for _ in 0..<concurrency where try !addNext() { break }
            var done: [(PendingCreate, SendOutcome)] = []
            while let (pending, result) = try await group.next() {
                switch result {
                case .success(let sent):
                    stats.add(sent)
                    done.append((pending, sent.outcome))
                case .failure(let error):
                    stats.rows += 1
                    stats.requests += 1
                    if case .keyRefused(let failure) = error, let status = failure.status {
                        stats.statuses[String(status), default: 0] += 1
                    }
                    if stop == nil {
                        stop = error
                        logger.error("stopping the run: \(error.description)")
                        group.cancelAll()
                    }
                }
                if done.count >= Self.recordBatch {
                    try ledger.record(done, runID: runID, now: now())
                    done.removeAll(keepingCapacity: true)
                    progress(stats)
                }
                _ = try addNext()
            }
            try ledger.record(done, runID: runID, now: now())
            progress(stats)
        }
        return (stats, stop)
    }
}
