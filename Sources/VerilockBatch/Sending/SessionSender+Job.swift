import Foundation
import Logging

extension SessionSender {
    /// A sender with `job`'s API settings: its rate limit and share (a fresh limiter on
    /// `clock`, burst 2), attempts, timeouts and way of settling lost answers.
    public init(
        job: JobConfiguration,
        api: any SessionsAPI,
        clock: C,
        jitter: @escaping @Sendable () -> Double,
        now: @escaping @Sendable () -> Date,
        lookupFallback: LookupFallback = LookupFallback(),
        willSend: @escaping @Sendable (PendingCreate, Date) async -> Bool = { _, _ in true },
        redaction: ErrorRedaction,
        logger: Logger
    ) {
        let rate = RateAdaptation(share: job.api.rateShare, followServer: job.api.rateLimit.isAuto)
        self.init(
            api: api,
            limiter: RateLimiter(
                requestsPerSecond: rate.effective(job.api.rateLimit.requestsPerSecond), burst: 2, clock: clock),
            policy: RetryPolicy(maxAttempts: job.api.maxAttempts),
            unknownOutcome: job.api.unknownOutcome,
            lookupFallback: lookupFallback,
            requestTimeout: job.api.timeout,
            serverTimeout: job.api.serverTimeout,
            rate: rate,
            clock: clock,
            jitter: jitter,
            now: now,
            willSend: willSend,
            redaction: redaction,
            logger: logger
        )
    }
}
