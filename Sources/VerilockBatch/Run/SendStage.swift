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

    /// Rows that got a session.
    public var created = 0
    /// Rows the API refused for good.
    public var failed = 0

    mutating func add(_ result: SendResult) {
        rows += 1
        switch result.outcome {
        case .created: created += 1
        case .failed: failed += 1
        case .unresolved: break
        }
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
/// alone records outcomes, in batches, and at least every ``recordInterval`` on `flushClock`
/// while any wait. A result that stops the run (a refused key, a redirect, an untrusted
/// certificate, an unknown profile, a spent retry budget) cancels the rest. A stop request
/// (``RunControl``) starts no new request and gives those in flight the grace period. Rows whose
/// answer never came stay pending for the next run. A settled session that arrives expired is
/// reissued in the same run (or rejected as expired, under `reissue_expired: false`).
struct SendStage<C: Clock>: Sendable where C.Duration == Duration {
    let ledger: any Ledger
    let runID: Int64
    let sender: SessionSender<C>
    let concurrency: Int
    let template: SessionTemplate
    let policy: RerunPolicy
    let control: RunControl
    let clock: C
    let flushClock: any Clock<Duration>
    let now: @Sendable () -> Date
    let logger: Logger

    /// Outcomes recorded per ledger transaction, at most.
    static var recordBatch: Int { 64 }
    /// 404 answers before any success that mean the profile does not exist.
    static var unknownProfileThreshold: Int { 3 }

    /// The longest an outcome waits to be recorded (a slow run records at least this often, so a
    /// crash leaves few answered rows to settle again).
    static var recordInterval: Duration { .seconds(1) }

    /// What the parent hears from its children.
    private enum Event: Sendable {
        case sent(PendingCreate, SendResult)
        case stopRequested
        case graceOver
        case flushDue
        case idle
    }

    /// Sends everything pending; returns the stats and the error that stopped the run, if any.
    func run(progress: (SendStats) -> Void = { _ in }) async throws -> (SendStats, APIError?) {
        var stats = SendStats()
        var stop: APIError?
        var pendingPage: [PendingCreate] = []
        var reissues: [PendingCreate] = []
        var lastRowID: Int64 = 0
        var exhausted = false

        func nextPending() async throws -> PendingCreate? {
            if let reissue = reissues.popLast() { return reissue }
            if pendingPage.isEmpty && !exhausted {
                let page = try await ledger.pendingCreates(claimedBy: runID, after: lastRowID, limit: 512)
                pendingPage = page.reversed()
                if let last = page.last { lastRowID = last.rowID } else { exhausted = true }
            }
            return pendingPage.popLast()
        }

        try await withThrowingTaskGroup(of: Event.self) { group in
            let (sender, control, clock, flushClock) = (self.sender, self.control, self.clock, self.flushClock)
            var inFlight = 0
            func addNext() async throws -> Bool {
                guard stop == nil, control.stopReason == nil, let next = try await nextPending() else { return false }
                inFlight += 1
                group.addTask { .sent(next, await sender.send(next)) }
                return true
            }
            group.addTask {
                await control.waitForStop()
                return Task.isCancelled ? .idle : .stopRequested
            }
            for _ in 0..<concurrency where try await !addNext() { break }
            if inFlight == 0 { group.cancelAll() }
            var done: [(PendingCreate, SendOutcome)] = []
            var expired: [ExpiredOnArrival] = []
            var flushScheduled = false
            var successes = 0
            var notFound = 0
            func flush() async throws {
                guard !done.isEmpty || !expired.isEmpty else { return }
                try await ledger.record(done, expired: expired, runID: runID, now: now())
                done.removeAll(keepingCapacity: true)
                expired.removeAll(keepingCapacity: true)
            }
            while let event = try await group.next() {
                switch event {
                case .idle:
                    continue
                case .flushDue:
                    flushScheduled = false
                    try await flush()
                    continue
                case .stopRequested:
                    logger.notice(
                        "stop requested: no new requests; waiting for those in flight",
                        metadata: ["in_flight": "\(inFlight)"])
                    if inFlight == 0 {
                        group.cancelAll()
                    } else {
                        group.addTask {
                            try? await clock.sleep(for: control.grace, tolerance: nil)
                            return Task.isCancelled ? .idle : .graceOver
                        }
                    }
                    continue
                case .graceOver:
                    logger.notice("grace period over: cancelling the requests still in flight")
                    group.cancelAll()
                    continue
                case .sent(let pending, let sent):
                    inFlight -= 1
                    stats.add(sent)
                    done.append((pending, sent.outcome))
                    var halt = sent.stop
                    switch sent.outcome {
                    case .created(let session):
                        successes += 1
                        if sent.settled, let arrival = expiredOnArrival(pending, session) {
                            expired.append(arrival)
                            if case .reissue(let next) = arrival {
                                // Recorded pending before it can be sent.
                                try await flush()
                                reissues.append(next)
                            }
                        }
                    case .failed(let failure) where failure.status == 404 && successes == 0:
                        notFound += 1
                        if notFound >= Self.unknownProfileThreshold {
                            halt = halt ?? .unknownProfile(profileID: template.profileID, failure: failure)
                        }
                    default: break
                    }
                    if let error = halt, stop == nil {
                        stop = error
                        logger.error("stopping the run: \(error.description)")
                        group.cancelAll()
                    }
                }
                if done.count >= Self.recordBatch {
                    try await flush()
                } else if !done.isEmpty && !flushScheduled && stop == nil {
                    flushScheduled = true
                    group.addTask {
                        try? await Self.sleep(on: flushClock, for: Self.recordInterval)
                        return Task.isCancelled ? .idle : .flushDue
                    }
                }
                progress(stats)
                if try await !addNext() && inFlight == 0 { group.cancelAll() }
            }
            try await flush()
            progress(stats)
        }
        return (stats, stop)
    }

    /// What becomes of a settled session whose link is dead, or dies within the reissue margin;
    /// nil for a live one. A reissue made in this run is not reissued again.
    private func expiredOnArrival(_ pending: PendingCreate, _ session: CreatedSession) -> ExpiredOnArrival? {
        guard let expires = session.expiresAt.flatMap(Timestamp.parse),
            expires.timeIntervalSince(now()) <= Double(policy.reissueMargin.components.seconds)
        else { return nil }
        guard policy.reissueExpired else {
            return .reject(externalID: pending.request.externalID, expiresAt: session.expiresAt)
        }
        let generation = pending.generation + 1
        logger.notice(
            "a settled session had expired when it arrived; reissuing",
            metadata: ["external_id": "\(pending.request.externalID)", "generation": "\(generation)"])
        return .reissue(
            PendingCreate(
                rowID: pending.rowID,
                request: CreateSessionRequest(
                    externalID: pending.request.externalID,
                    idempotencyKey: template.idempotencyKey(
                        externalID: pending.request.externalID, generation: generation),
                    body: pending.request.body),
                generation: generation,
                knownSessionIDs: pending.knownSessionIDs.union([session.id])))
    }

    private static func sleep<K: Clock>(on clock: K, for duration: Duration) async throws where K.Duration == Duration {
        try await clock.sleep(for: duration, tolerance: nil)
    }
}
