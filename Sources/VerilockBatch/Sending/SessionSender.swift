import Foundation
import Logging

/// How one row's create ended.
public enum SendOutcome: Sendable, Equatable {
    /// The API created the session (or replayed the one it created before).
    case created(CreatedSession)
    /// The API refused the row for good (400, 404, 422).
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
}

/// Sends one create with retries, under the shared rate limiter. Never throws for a row's own
/// problems (they become a ``SendOutcome``); throws only to stop the whole run.
public struct SessionSender<C: Clock>: Sendable where C.Duration == Duration {
    /// The most 429 answers one row tolerates before it is left pending.
    public static var maxRateLimitedPerRow: Int { 50 }

    let api: any SessionsAPI
    let limiter: RateLimiter<C>
    let policy: RetryPolicy
    let unknownOutcome: UnknownOutcome
    let rate: RateAdaptation
    let budget: RetryBudget
    let clock: C
    let jitter: @Sendable () -> Double
    let now: @Sendable () -> Date
    let logger: Logger

    /// A sender over the given collaborators.
    public init(
        api: any SessionsAPI,
        limiter: RateLimiter<C>,
        policy: RetryPolicy,
        unknownOutcome: UnknownOutcome = .idempotencyKey,
        rate: RateAdaptation = RateAdaptation(),
        budget: RetryBudget = RetryBudget(),
        clock: C,
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) {
        self.api = api
        self.limiter = limiter
        self.policy = policy
        self.unknownOutcome = unknownOutcome
        self.rate = rate
        self.budget = budget
        self.clock = clock
        self.jitter = jitter
        self.now = now
        self.logger = logger
    }

    /// Sends `pending` until it has a definite answer, the attempts run out, or the run must stop.
    ///
    /// With ``UnknownOutcome/lookup``, a create whose earlier attempt may have reached the API
    /// (a lost answer, a reset, a 5xx, or an attempt by a run that died) is first looked up,
    /// and a session found is adopted instead of creating again.
    /// A condition that stops the whole run (a refused key, an API down past the retry budget)
    /// comes back in ``SendResult/stop``, with what the row cost until then.
    public func send(_ pending: PendingCreate) async -> SendResult {
        var result = SendResult(
            outcome: .unresolved(APIFailure(status: nil, code: nil, message: "not sent", requestID: nil)))
        do {
            try await send(pending, into: &result)
        } catch {
            result.stop = error
        }
        return result
    }

    private func send(_ pending: PendingCreate, into result: inout SendResult) async throws(APIError) {
        let request = pending.request
        var lastFailure = APIFailure(status: nil, code: nil, message: "not sent", requestID: nil)
        var failedAttempts = 0
        var outcomeUnknown = pending.attempted

        /// Counts a failed attempt and sleeps its backoff; false when no attempt is left. Throws
        /// when the run's retry budget is spent: the API is down, and the run must stop.
        func failedAttempt(_ failure: APIFailure) async throws(APIError) -> Bool {
            lastFailure = failure
            failedAttempts += 1
            guard failedAttempts < policy.maxAttempts else {
                result.outcome = .unresolved(failure)
                return false
            }
            guard await budget.permitRetry() else { throw .unavailable(failure) }
            guard await sleepBackoff(failedAttempts, external: request.externalID, failure: failure) else {
                result.outcome = .unresolved(failure)
                return false
            }
            result.retries += 1
            return true
        }

        while true {
            do {
                try await limiter.acquire()
            } catch {
                result.outcome = .unresolved(lastFailure.interrupted)
                return
            }
            if unknownOutcome == .lookup && outcomeUnknown {
                let lookup = await SessionLookup(api: api, budget: budget).lookup(
                    externalID: request.externalID, knownSessionIDs: pending.knownSessionIDs, now: now())
                result.lookups += 1
                switch lookup {
                case .found(let session):
                    result.outcome = .created(session)
                    return
                case .none:
                    outcomeUnknown = false
                case .untrusted(let reason):
                    logger.warning(
                        "lookup not trusted; relying on the Idempotency-Key",
                        metadata: ["external_id": "\(request.externalID)", "reason": "\(reason)"])
                    outcomeUnknown = false
                case .keyRefused(let failure):
                    throw .keyRefused(failure)
                case .failed(let failure):
                    if try await failedAttempt(failure) { continue }
                    return
                }
                do {
                    try await limiter.acquire()
                } catch {
                    result.outcome = .unresolved(lastFailure.interrupted)
                    return
                }
            }
            let response: APIResponse
            await budget.recordRequest()
            do {
                response = try await api.createSession(request)
            } catch {
                result.statuses.append(0)
                outcomeUnknown = true
                let failure = APIFailure(status: nil, code: "transport", message: "no answer: \(error)", requestID: nil)
                if try await failedAttempt(failure) { continue }
                return
            }
            result.statuses.append(response.status)
            await adapt(to: response)
            switch ResponseClass(status: response.status) {
            case .success:
                if let session = try? JSONDecoder().decode(CreatedSession.self, from: Data(response.body)) {
                    result.outcome = .created(session)
                    return
                }
                result.outcome = .unresolved(
                    APIFailure(
                        status: response.status, code: "unreadable_response",
                        message: "the API answered \(response.status) with a body that is not a session",
                        requestID: response.requestID))
                return
            case .failRow:
                var failure = APIFailure(response: response)
                if failure.code == "idempotency_key_reused" {
                    failure.message =
                        "the row's data changed since its first attempt, whose outcome is unknown; the API refused "
                        + "its Idempotency-Key with the new data (\(failure.message)): check for a session made "
                        + "with the old data, then set policy.retry_failed: always to create a new one"
                }
                result.outcome = .failed(failure)
                return
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
                if result.rateLimited >= Self.maxRateLimitedPerRow {
                    result.outcome = .unresolved(lastFailure)
                    return
                }
                result.retries += 1
            case .unavailable:
                if let pause = policy.retryAfter(response.retryAfter, now: now()) { await limiter.pause(for: pause) }
                if try await failedAttempt(APIFailure(response: response)) { continue }
                return
            case .retry:
                // A 409 means the first attempt with this key is still running: its outcome will
                // be replayed. Any other retryable answer may have followed a commit.
                if response.status != 409 { outcomeUnknown = true }
                if try await failedAttempt(APIFailure(response: response)) { continue }
                return
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
