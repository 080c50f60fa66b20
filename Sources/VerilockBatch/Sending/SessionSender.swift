import Foundation
import Logging

/// How one row's create ended.
public enum SendOutcome: Sendable, Equatable {
    /// The API created the session (or replayed the one it created before).
    case created(CreatedSession)
    /// The API refused the row for good (a 4xx other than 401-403, 408, 409 and 429), or answered
    /// success without a usable session in every one of the row's allowed runs.
    case failed(APIFailure)
    /// No definite answer within the attempts: the row stays pending for the next run.
    case unresolved(APIFailure)
}

/// A row's outcome with what it cost, for the run's counters.
public struct SendResult: Sendable, Equatable {
    /// How it ended.
    public var outcome: SendOutcome
    /// The HTTP status of every attempt; 0 where no answer came.
    public var statuses: [Int] = []
    /// Requests sent again after a retryable answer.
    public var retries = 0
    /// 429 answers received.
    public var rateLimited = 0
    /// Lookups made to settle an unknown outcome.
    public var lookups = 0
    /// A condition that stops the whole run, met while sending this row.
    public var stop: APIError?
    /// The session came from settling an unknown outcome (a lookup, or a create sent again
    /// after an attempt whose answer was lost): it may be older than this run, even expired.
    public var settled = false
}

/// Sends one create with retries, under the shared rate limiter, and settles a create whose
/// outcome is unknown. Never throws for a row's own problems (they become a ``SendOutcome``);
/// a condition that stops the whole run comes back in ``SendResult/stop``.
///
/// Every request, lookups included, takes its own limiter slot; its 429, Retry-After and
/// X-RateLimit headers act on the whole run.
public struct SessionSender<C: Clock>: Sendable where C.Duration == Duration {
    /// The most 429 answers one row tolerates before it is left pending.
    public static var maxRateLimitedPerRow: Int { 50 }

    let api: any SessionsAPI
    let limiter: RateLimiter<C>
    let policy: RetryPolicy
    let unknownOutcome: UnknownOutcome
    let lookupFallback: LookupFallback
    let requestTimeout: Duration
    let serverTimeout: Duration
    let rate: RateAdaptation
    let budget: RetryBudget
    let clock: C
    let jitter: @Sendable () -> Double
    let now: @Sendable () -> Date
    let willSend: @Sendable (PendingCreate, Date) async -> Bool
    let redaction: ErrorRedaction
    let logger: Logger

    /// A sender over the given collaborators.
    /// - Parameters:
    ///   - requestTimeout: the client's timeout.
    ///   - serverTimeout: how long the API may go on with a request the client gave up on. A
    ///     lost answer that a lookup does not find is looked up again once the longer of the two
    ///     has passed since the request left, and only then sent again.
    ///   - willSend: called just before each create leaves, with the time; it records the
    ///     attempt durably. When it returns false the create is not sent.
    public init(
        api: any SessionsAPI,
        limiter: RateLimiter<C>,
        policy: RetryPolicy,
        unknownOutcome: UnknownOutcome = .auto,
        lookupFallback: LookupFallback = LookupFallback(),
        requestTimeout: Duration = .seconds(30),
        serverTimeout: Duration = .seconds(60),
        rate: RateAdaptation = RateAdaptation(),
        budget: RetryBudget = RetryBudget(),
        clock: C,
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
        now: @escaping @Sendable () -> Date = { Date() },
        willSend: @escaping @Sendable (PendingCreate, Date) async -> Bool = { _, _ in true },
        redaction: ErrorRedaction = ErrorRedaction(),
        logger: Logger
    ) {
        self.api = api
        self.limiter = limiter
        self.policy = policy
        self.unknownOutcome = unknownOutcome
        self.lookupFallback = lookupFallback
        self.requestTimeout = requestTimeout
        self.serverTimeout = serverTimeout
        self.rate = rate
        self.budget = budget
        self.clock = clock
        self.jitter = jitter
        self.now = now
        self.willSend = willSend
        self.redaction = redaction
        self.logger = logger
    }

    /// Sends `pending` until it has a definite answer, the attempts run out, or the run must stop.
    ///
    /// A create whose earlier attempt may have reached the API (a lost answer, a 5xx, an
    /// unreadable 2xx, or an attempt by a run that died) is settled with the body it was sent
    /// with: with ``UnknownOutcome/auto`` and ``UnknownOutcome/lookup`` it is looked up first
    /// (once the earlier request can no longer be in flight), and a session found is adopted;
    /// otherwise it is sent again with the same Idempotency-Key.
    public func send(_ pending: PendingCreate) async -> SendResult {
        var result = SendResult(
            outcome: .unresolved(APIFailure(status: nil, code: nil, message: "not sent", requestID: nil)))
        do {
            try await send(pending, into: &result)
        } catch {
            result.stop = error
        }
        if case .unresolved(let failure) = result.outcome, failure.code == APIFailure.unreadableCode,
            pending.unsettledRuns + 1 >= policy.maxAttempts
        {
            var final = failure
            final.message =
                "the API answered success without a usable session in \(pending.unsettledRuns + 1) runs, and no "
                + "lookup found one: check that the base URL is Verilock's API and ask Verilock support about "
                + "the request id"
            result.outcome = .failed(final)
        }
        return redacted(result, personal: ErrorRedaction.personalValues(of: pending.request.body))
    }

    /// `result` with every failure in it passed through ``ErrorRedaction``: nothing the API
    /// echoed of the key or the row leaves the sender.
    private func redacted(_ result: SendResult, personal: [String]) -> SendResult {
        var copy = result
        switch result.outcome {
        case .created: break
        case .failed(let failure): copy.outcome = .failed(redaction.redact(failure, personal: personal))
        case .unresolved(let failure): copy.outcome = .unresolved(redaction.redact(failure, personal: personal))
        }
        switch result.stop {
        case .keyRefused(let failure)?: copy.stop = .keyRefused(redaction.redact(failure, personal: personal))
        case .unavailable(let failure)?: copy.stop = .unavailable(redaction.redact(failure, personal: personal))
        case .unknownProfile(let profileID, let failure)?:
            copy.stop = .unknownProfile(profileID: profileID, failure: redaction.redact(failure, personal: personal))
        case .redirected(let status, let location)?:
            copy.stop = .redirected(status: status, location: location.map { redaction.redact($0, personal: personal) })
        default: break
        }
        return copy
    }

    private func send(_ pending: PendingCreate, into result: inout SendResult) async throws(APIError) {
        let request = pending.request
        var lastFailure = APIFailure(status: nil, code: nil, message: "not sent", requestID: nil)
        var failedAttempts = 0
        var outcomeUnknown = pending.attempted
        var lastSent = pending.attemptedAt
        // Since when a request of this row may still be at work on the server: set when an
        // attempt got no answer (here, or in a run that died), cleared by any answer.
        var inFlightSince: Date? = pending.attempted ? (pending.attemptedAt ?? .distantPast) : nil
        var lookedUpReusedKey = false

        /// Counts a failed attempt and sleeps its backoff (unless the whole run was paused for
        /// it already); false when no attempt is left. Throws when the run's retry budget is
        /// spent: the API is down, and the run must stop.
        func failedAttempt(_ failure: APIFailure, sleep: Bool = true) async throws(APIError) -> Bool {
            lastFailure = failure
            failedAttempts += 1
            guard failedAttempts < policy.maxAttempts else {
                result.outcome = .unresolved(failure)
                return false
            }
            guard await budget.permitRetry() else { throw .unavailable(failure) }
            if sleep {
                guard await sleepBackoff(failedAttempts, external: request.externalID, failure: failure) else {
                    result.outcome = .unresolved(failure)
                    return false
                }
            }
            result.retries += 1
            return true
        }

        while true {
            if outcomeUnknown, usesLookup {
                result.lookups += 1
                let lookup = try await SessionLookup(
                    externalID: request.externalID, knownSessionIDs: pending.knownSessionIDs, now: now(),
                    secrets: redaction.secrets
                ).lookup { (call) async throws(APIError) -> Exchange in
                    try await exchange(attempt: failedAttempts + 1, into: &result) {
                        switch call {
                        case .list(let externalID, let page):
                            try await api.listSessions(SessionListRequest(externalID: externalID, page: page))
                        case .detail(let id): try await api.session(id: id)
                        }
                    }
                }
                logger.debug(
                    "looked up a create whose outcome was unknown",
                    metadata: ["external_id": "\(request.externalID)", "found": "\(lookup.summary)"])
                switch lookup {
                case .found(let session):
                    result.outcome = .created(session)
                    result.settled = true
                    return
                case .none:
                    // Not found yet. A request that got no answer may still be at work on the
                    // server: look again once it cannot be, before creating anything.
                    if let since = inFlightSince {
                        inFlightSince = nil
                        switch await waitUntilSettled(since: since) {
                        case .cancelled:
                            result.outcome = .unresolved(lastFailure.interrupted)
                            return
                        case .waited: continue
                        case .alreadyOver: break
                        }
                    }
                    outcomeUnknown = false
                case .unavailable(let reason):
                    giveUpLookups(reason, externalID: request.externalID)
                    outcomeUnknown = false
                case .failed(let failure):
                    if try await failedAttempt(failure) { continue }
                    return
                case .interrupted:
                    result.outcome = .unresolved(lastFailure.interrupted)
                    return
                }
            }
            let exchanged = try await exchange(attempt: failedAttempts + 1, into: &result) {
                () async throws -> APIResponse? in
                // The time it leaves, after any wait for the limiter: a lookup waits a timeout from here.
                let sentAt = now()
                guard await willSend(pending, sentAt) else { return nil }
                lastSent = sentAt
                return try await api.createSession(request)
            }
            let response: APIResponse
            switch exchanged {
            case .interrupted:
                result.outcome = .unresolved(lastFailure.interrupted)
                return
            case .rateLimitedTooOften(let failure):
                result.outcome = .unresolved(failure)
                return
            case .noAnswer(let failure):
                outcomeUnknown = true
                inFlightSince = lastSent
                if try await failedAttempt(failure) { continue }
                return
            case .answer(let answer):
                response = answer
                inFlightSince = nil
            }
            switch ResponseClass(status: response.status) {
            case .success:
                if let session = CreatedSession(usable: response, secrets: redaction.secrets) {
                    result.outcome = .created(session)
                    result.settled = pending.attempted || failedAttempts > 0
                    return
                }
                // A success without a usable session: the session may exist. Settle it like a
                // lost answer.
                outcomeUnknown = true
                let failure = APIFailure(
                    status: response.status, code: APIFailure.unreadableCode,
                    message: "the API answered \(response.status) with a body that is not a session "
                        + "(no readable id and session_url)",
                    requestID: response.requestID)
                if try await failedAttempt(failure) { continue }
                return
            case .failRow:
                var failure = APIFailure(response: response)
                if failure.code == APIFailure.keyReusedCode {
                    // A session exists under this key, made with other data (another tool, or a
                    // ledger that was lost): find it rather than fail.
                    if usesLookup && !lookedUpReusedKey {
                        lookedUpReusedKey = true
                        outcomeUnknown = true
                        continue
                    }
                    failure.message =
                        "the API refused the row's Idempotency-Key with its first body (\(failure.message)): "
                        + "another tool or ledger used the same key, so a session exists for this applicant; "
                        + "find it with GET /sessions?external_id=... This row is never retried automatically"
                }
                result.outcome = .failed(failure)
                return
            case .unavailable:
                if try await failedAttempt(APIFailure(response: response), sleep: false) { continue }
                return
            case .retry:
                // A 409 means the first attempt with this key is still running: its outcome will
                // be replayed. Any other retryable answer may have followed a commit.
                if response.status != 409 { outcomeUnknown = true }
                if try await failedAttempt(APIFailure(response: response)) { continue }
                return
            case .rateLimited, .redirect, .stopRun:
                // `exchange` never returns these.
                result.outcome = .unresolved(APIFailure(response: response))
                return
            }
        }
    }

    /// Sends a read (it changes nothing on the server, so it is simply sent again) through the
    /// same machinery as a create: a limiter slot, 429 and 503 pauses for every request, rate
    /// headers, backoff with jitter between attempts, the run's retry budget. Adds what it cost
    /// to `stats`. `call` returning nil means the request was not sent (the run is stopping).
    /// Throws for what stops the run: a refused key, a redirect, a spent retry budget.
    public func fetch(
        into stats: inout SendResult, _ call: @Sendable () async throws -> APIResponse?
    ) async throws(APIError) -> FetchOutcome {
        var failedAttempts = 0
        while true {
            let failure: APIFailure
            // A 503 has paused every request already (`exchange`): no backoff on top.
            var backoff = true
            switch try await exchange(attempt: failedAttempts + 1, into: &stats, { try await call() }) {
            case .interrupted: return .interrupted
            case .rateLimitedTooOften(let last): return .failed(last)
            case .noAnswer(let last): failure = last
            case .answer(let response):
                switch ResponseClass(status: response.status) {
                case .success, .failRow, .rateLimited, .redirect, .stopRun: return .answer(response)
                case .retry: failure = APIFailure(response: response)
                case .unavailable:
                    failure = APIFailure(response: response)
                    backoff = false
                }
            }
            failedAttempts += 1
            guard failedAttempts < policy.maxAttempts else { return .failed(failure) }
            guard await budget.permitRetry() else { throw .unavailable(failure) }
            if backoff {
                guard await sleepBackoff(failedAttempts, external: "(read)", failure: failure) else {
                    return .interrupted
                }
            }
            stats.retries += 1
        }
    }

    /// Whether an unknown outcome is settled by lookup before it is sent again.
    private var usesLookup: Bool {
        switch unknownOutcome {
        case .idempotencyKey: false
        case .lookup: true
        case .auto: lookupFallback.fallbackReason == nil
        }
    }

    private func giveUpLookups(_ reason: String, externalID: String) {
        switch unknownOutcome {
        case .auto:
            if lookupFallback.giveUp(because: reason) {
                logger.warning(
                    "the lookup endpoint cannot settle lost answers; settling by Idempotency-Key only for the rest of the run",
                    metadata: ["reason": "\(reason)"])
            }
        case .lookup, .idempotencyKey:
            logger.warning(
                "lookup not trusted; relying on the Idempotency-Key",
                metadata: ["external_id": "\(externalID)", "reason": "\(reason)"])
        }
    }

    /// Waits until a request sent at `sent` can no longer be at work on the server: the longer
    /// of the client's timeout and `server_timeout` since it left; `.alreadyOver` when that has
    /// passed already, `.cancelled` when the wait was cancelled.
    private func waitUntilSettled(since sent: Date) async -> SettleWait {
        let window = max(requestTimeout, serverTimeout)
        let seconds = window.inSeconds
        let remaining = sent.addingTimeInterval(seconds).timeIntervalSince(now())
        guard remaining > 0 else { return .alreadyOver }
        do {
            try await clock.sleep(for: .milliseconds(Int64((remaining * 1000).rounded(.up))), tolerance: nil)
            return .waited
        } catch {
            return .cancelled
        }
    }

    /// How a wait for a request to leave the server ended.
    private enum SettleWait { case alreadyOver, waited, cancelled }

    /// Sends one request through the rate machinery: a limiter slot, the run's request count,
    /// adaptation to the rate headers; a 429 pauses every request and sends again (not a failed
    /// attempt); a 503 pauses every request for its Retry-After or the backoff of `attempt`.
    /// A redirect, a refused key, or an ``APIError`` from `call` (an untrusted certificate)
    /// throws. `call` returning nil means the request was not sent.
    private func exchange(
        attempt: Int,
        into result: inout SendResult,
        _ call: () async throws -> APIResponse?
    ) async throws(APIError) -> Exchange {
        var lastFailure = APIFailure(status: nil, code: nil, message: "not sent", requestID: nil)
        while true {
            do {
                try await limiter.acquire()
            } catch {
                return .interrupted
            }
            let response: APIResponse
            do {
                guard let answer = try await call() else { return .interrupted }
                response = answer
            } catch let error as APIError {
                // Raised before anything was sent (an untrusted certificate): retrying cannot help.
                throw error
            } catch {
                await budget.recordRequest()
                result.statuses.append(0)
                return .noAnswer(
                    APIFailure(status: nil, code: "transport", message: "no answer: \(error)", requestID: nil))
            }
            await budget.recordRequest()
            result.statuses.append(response.status)
            await adapt(to: response)
            switch ResponseClass(status: response.status) {
            case .redirect:
                throw .redirected(status: response.status, location: response.location)
            case .stopRun:
                throw .keyRefused(APIFailure(response: response))
            case .rateLimited:
                result.rateLimited += 1
                lastFailure = APIFailure(response: response)
                let pause =
                    policy.retryAfter(response.retryAfter, now: now()) ?? Self.bodyRetryAfter(response, policy)
                    ?? policy.backoff(retry: result.rateLimited, jitter: jitter())
                logger.debug("rate limited; pausing all requests", metadata: ["pause": "\(pause)"])
                await limiter.pause(for: pause)
                if result.rateLimited >= Self.maxRateLimitedPerRow { return .rateLimitedTooOften(lastFailure) }
                result.retries += 1
            case .unavailable:
                let pause =
                    policy.retryAfter(response.retryAfter, now: now())
                    ?? policy.backoff(retry: attempt, jitter: jitter())
                logger.debug("service unavailable; pausing all requests", metadata: ["pause": "\(pause)"])
                await limiter.pause(for: pause)
                return .answer(response)
            case .success, .retry, .failRow:
                return .answer(response)
            }
        }
    }

    /// Lowers the limiter's rate when the server reports a smaller budget than configured.
    private func adapt(to response: APIResponse) async {
        guard let limit = response.rateLimitLimit, limit > 0 else { return }
        let serverRate = rate.effective(Double(limit) / 60)
        if rate.followServer {
            if await limiter.follow(serverRate) {
                logger.notice("following the server's rate limit", metadata: ["limit_per_min": "\(limit)"])
            }
        } else if await limiter.tighten(to: serverRate) {
            logger.notice(
                "the server reports a smaller rate limit than configured; slowing down",
                metadata: ["limit_per_min": "\(limit)"])
        }
        if response.rateLimitRemaining == 0 {
            // The key's budget is spent (maybe by another user of the key); its reset time is not
            // documented, so wait at least one slot at the server's rate, and a second.
            await limiter.pause(for: max(.seconds(1), .seconds(60) / limit))
        }
    }

    /// Sleeps the backoff before retry number `failedAttempts`; false when cancelled.
    private func sleepBackoff(_ failedAttempts: Int, external: String, failure: APIFailure) async -> Bool {
        let delay = policy.backoff(retry: failedAttempts, jitter: jitter())
        logger.debug(
            "retrying",
            metadata: [
                "external_id": "\(external)", "attempt": "\(failedAttempts)", "status": "\(failure.status ?? 0)",
            ]
        )
        do {
            try await clock.sleep(for: delay, tolerance: nil)
            return true
        } catch {
            return false
        }
    }

    /// `details.retry_after` from a 429 body, in seconds.
    private static func bodyRetryAfter(_ response: APIResponse, _ policy: RetryPolicy) -> Duration? {
        guard
            let seconds = (try? JSONDecoder().decode(RateLimitBody.self, from: Data(response.body)))?.details?
                .retryAfter,
            seconds >= 0
        else { return nil }
        return min(.milliseconds(Int64(seconds * 1000)), policy.maxRetryAfter)
    }
}

extension APIFailure {
    /// No request was sent.
    static let notSent = APIFailure(status: nil, code: nil, message: "not sent", requestID: nil)

    /// The code of a 2xx answer whose body is not a session.
    static let unreadableCode = "unreadable_response"
    /// The API's code for an Idempotency-Key it already used with another body.
    static let keyReusedCode = "idempotency_key_reused"

    /// The same failure, noting that the run was interrupted before an answer came.
    var interrupted: APIFailure {
        var copy = self
        copy.message = status == nil && code == nil ? "interrupted before an answer came" : message
        return copy
    }
}

/// The part of a 429 body that carries `details.retry_after`.
private struct RateLimitBody: Decodable {
    struct Details: Decodable {
        var retryAfter: Double?
        enum CodingKeys: String, CodingKey { case retryAfter = "retry_after" }
    }
    var details: Details?
}
