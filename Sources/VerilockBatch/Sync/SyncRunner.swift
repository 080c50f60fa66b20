import Foundation
import Logging

/// `verilock-batch sync`: refreshes the status, decision, completion and expiry of the ledger's
/// sessions that are not final yet.
///
/// It pages through `GET /sessions` from the day the oldest open session was created (100 per
/// page, `concurrency` pages at a time once the first says how many there are), and fetches
/// `GET /sessions/{id}` only for the open sessions no page reported. Every request goes through
/// the run's machinery (``SessionSender/fetch(into:_:)``): the job's rate budget, pauses,
/// retries. Each page's reports are committed as they arrive, so an interrupted sync keeps what
/// it learnt and a rerun finishes the rest.
public struct SyncRunner<C: Clock>: Sendable where C.Duration == Duration {
    let job: JobConfiguration
    let api: any SessionsAPI
    let clock: C
    let now: @Sendable () -> Date
    let jitter: @Sendable () -> Double
    let control: RunControl
    let redaction: ErrorRedaction
    let logger: Logger

    /// A sync of `job`'s ledger through `api`.
    public init(
        job: JobConfiguration,
        api: any SessionsAPI,
        clock: C,
        now: @escaping @Sendable () -> Date = { Date() },
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
        control: RunControl = RunControl(),
        secrets: [String] = [],
        logger: Logger
    ) {
        self.job = job
        self.api = api
        self.clock = clock
        self.now = now
        self.jitter = jitter
        self.control = control
        self.redaction = ErrorRedaction(secrets: secrets)
        self.logger = logger
    }

    /// Sessions fetched one by one, per ledger read.
    static var fetchBatch: Int { 64 }

    /// Syncs; returns the report (whose exit code the CLI returns). Throws for what stops it
    /// before any request (the ledger).
    public func run() async throws -> SyncReport {
        let started = now()
        let startInstant = clock.now
        guard LedgerAccess.exists(for: job, now: started) else {
            throw LedgerError.cannotOpen(
                path: job.expand(job.ledgerPath, runID: nil, now: started),
                reason: "no such file: no run has used this ledger yet")
        }
        let access = try await LedgerAccess.open(job: job, use: .write, now: started, logger: logger)
        return try await access.use { ledger in
            try await sync(ledger: ledger, started: started, startInstant: startInstant)
        }
    }

    /// The sync, on its opened and locked ledger.
    private func sync(ledger: any Ledger, started: Date, startInstant: C.Instant) async throws -> SyncReport {
        var report = SyncReport()
        guard let open = try await ledger.openSessionsSummary() else {
            logger.info("every session in the ledger is final: nothing to sync")
            return report
        }
        let sender = SessionSender(
            job: job, api: api, clock: clock, jitter: jitter, now: now, redaction: redaction, logger: logger)
        var stats = SendResult(outcome: .unresolved(APIFailure.notSent))
        do {
            try await listPages(open, ledger: ledger, sender: sender, into: &report, stats: &stats)
            if report.stoppedBecause == nil {
                try await fetchUnlisted(since: started, ledger: ledger, sender: sender, into: &report, stats: &stats)
            }
        } catch let error as APIError {
            let reason: String
            if case .unavailable(let failure) = error {
                reason =
                    "the API did not answer (last answer: \(failure.summary)); what was learnt is kept: "
                    + "run sync again later"
            } else {
                reason = "\(error)"
            }
            report.stoppedBecause = redaction.redact(reason, personal: [])
            report.exitCode = ExitStatus(for: error).rawValue
        }
        report.requests = stats.statuses.count
        report.durationSeconds = startInstant.duration(to: clock.now).inSeconds
        report.rateLimited = stats.rateLimited
        if let reason = control.stopReason {
            report.stoppedBecause = "interrupted by \(reason.signalName): run sync again to finish"
            report.exitCode = reason.exitStatus.rawValue
        }
        return report
    }

    /// Reads every page of sessions created since `oldest`'s day, recording each; sets
    /// `listUnavailable` when the list cannot serve (the caller fetches one by one then).
    private func listPages(
        _ open: (count: Int, oldest: Date), ledger: any Ledger, sender: SessionSender<C>,
        into report: inout SyncReport, stats: inout SendResult
    ) async throws {
        let day = String(Timestamp.string(open.oldest).prefix(10))
        var lastPage = 1
        var page = 1
        var previousFirst: String?
        while page <= lastPage, control.stopReason == nil {
            // The list pays only while it takes fewer requests than fetching each open session.
            if lastPage > max(1, open.count) {
                report.listUnavailable =
                    "the list holds \(lastPage) or more pages for \(open.count) open sessions: "
                    + "the rest are fetched one by one"
                return
            }
            // The first page says how many there are; the rest go `concurrency` at a time.
            let batch = Array(page...(page == 1 ? 1 : min(lastPage, page + job.api.concurrency - 1)))
            let answers = try await fetchConcurrently(batch, sender: sender, stats: &stats) { number in
                { [api, control] in
                    guard control.stopReason == nil else { return nil }
                    return try await api.listSessions(SessionListRequest(createdFrom: day, page: number))
                }
            }
            for (number, outcome) in answers {
                guard let response = try answer(of: outcome) else { return }
                guard ResponseClass(status: response.status) == .success, let list = SessionPage(body: response.body)
                else {
                    report.listUnavailable =
                        ResponseClass(status: response.status) == .success
                        ? "the answer is not a session list" : "GET /sessions answered HTTP \(response.status)"
                    return
                }
                if let last = list.meta?.lastPage {
                    if number == 1 { lastPage = last }
                } else if list.data.count >= (list.meta?.perPage ?? SessionListRequest.maxPerPage) {
                    // No `last_page`: a full page means there may be another.
                    lastPage = max(lastPage, number + 1)
                }
                if number > 1, list.data.first?.id == previousFirst, previousFirst != nil {
                    report.listUnavailable = "the list ignores its page parameter"
                    return
                }
                previousFirst = list.data.first?.id
                report.pages += 1
                report.tally = report.tally + (try await record(list.data, ledger: ledger))
                report.tally.malformed += list.malformed
                // An empty page ends the list, whatever `last_page` claimed.
                if list.data.isEmpty { lastPage = min(lastPage, number) }
            }
            page = (batch.last ?? page) + 1
        }
    }

    /// Fetches, one by one, every open session that no report since `since` covered.
    private func fetchUnlisted(
        since: Date, ledger: any Ledger, sender: SessionSender<C>, into report: inout SyncReport,
        stats: inout SendResult
    ) async throws {
        var after: Int64 = 0
        while control.stopReason == nil {
            let open = try await ledger.openSessions(notSyncedSince: since, after: after, limit: Self.fetchBatch)
            guard let last = open.last else { return }
            after = last.rowID
            let answers = try await fetchConcurrently(open, sender: sender, stats: &stats) { session in
                { [api, control] in
                    guard control.stopReason == nil else { return nil }
                    return try await api.session(id: session.sessionID)
                }
            }
            var reports: [SessionReport] = []
            for (session, outcome) in answers {
                guard let response = try answer(of: outcome) else { break }
                report.fetched += 1
                guard ResponseClass(status: response.status) == .success else {
                    if response.status == 404 { report.missing += 1 }
                    continue
                }
                guard var detail = (try? JSONDecoder().decode(SessionReport.self, from: Data(response.body)))?.checked,
                    detail.id == session.sessionID
                else {
                    report.tally.malformed += 1
                    continue
                }
                detail.externalID = detail.externalID ?? session.externalID
                reports.append(detail)
            }
            report.tally = report.tally + (try await record(reports, ledger: ledger))
            if report.stoppedBecause != nil { return }
        }
    }

    /// The response of a fetch that answered; nil when the sync is stopping; throws when no
    /// answer came within the attempts (the API is unavailable).
    private func answer(of outcome: FetchOutcome) throws(APIError) -> APIResponse? {
        switch outcome {
        case .answer(let response): return response
        case .interrupted: return nil
        case .failed(let failure):
            throw .unavailable(failure)
        }
    }

    private func record(_ reports: [SessionReport], ledger: any Ledger) async throws -> SyncTally {
        guard !reports.isEmpty else { return SyncTally() }
        return try await ledger.record(reports: reports, now: now())
    }

    /// Fetches what `request` makes of each of `items`, at most `concurrency` at a time (none
    /// once a stop is requested), in the order of `items`.
    private func fetchConcurrently<T: Sendable>(
        _ items: [T], sender: SessionSender<C>, stats: inout SendResult,
        _ request: @escaping @Sendable (T) -> @Sendable () async throws -> APIResponse?
    ) async throws(APIError) -> [(T, FetchOutcome)] {
        let control = self.control
        let results = await withTaskGroup(of: (Int, Result<FetchOutcome, APIError>, SendResult).self) { group in
            var next = 0
            var inFlight = 0
            var results: [(Int, Result<FetchOutcome, APIError>, SendResult)] = []
            // A stop request cancels what is in flight: a read is safe to abandon, and a request
            // waiting out a long Retry-After would otherwise hold the process.
            group.addTask {
                await control.waitForStop()
                return (-1, .success(.interrupted), SendResult(outcome: .unresolved(APIFailure.notSent)))
            }
            while next < items.count || inFlight > 0 {
                while inFlight < max(1, job.api.concurrency), next < items.count, control.stopReason == nil {
                    let (index, call) = (next, request(items[next]))
                    group.addTask {
                        var own = SendResult(outcome: .unresolved(APIFailure.notSent))
                        do throws(APIError) {
                            return (index, .success(try await sender.fetch(into: &own, call)), own)
                        } catch {
                            return (index, .failure(error), own)
                        }
                    }
                    next += 1
                    inFlight += 1
                }
                guard let done = await group.next() else { break }
                if done.0 < 0 {
                    group.cancelAll()
                    next = items.count
                    continue
                }
                inFlight -= 1
                results.append(done)
                if case .failure = done.1 { next = items.count }
                if control.stopReason != nil { next = items.count }
            }
            group.cancelAll()
            return results
        }
        var ordered: [(T, FetchOutcome)] = []
        var stop: APIError?
        for (index, outcome, own) in results.sorted(by: { $0.0 < $1.0 }) {
            stats.statuses += own.statuses
            stats.retries += own.retries
            stats.rateLimited += own.rateLimited
            switch outcome {
            case .success(let fetched): ordered.append((items[index], fetched))
            case .failure(let error): stop = stop ?? error
            }
        }
        if let stop { throw stop }
        return ordered
    }
}
