import Foundation

/// How the sender treats each answer: the one table of retry classification.
///
/// | answer | class |
/// | --- | --- |
/// | 2xx | ``ResponseClass/success`` |
/// | 408, 409, 500, 502, 504, other 5xx | ``ResponseClass/retry`` |
/// | 429 | ``ResponseClass/rateLimited``: pause every request, not a failed attempt |
/// | 503 | ``ResponseClass/unavailable``: pause every request, a failed attempt |
/// | 300-399 | ``ResponseClass/redirect``: stop the run, the base URL is wrong |
/// | 400, 404, 422, other 4xx | ``ResponseClass/failRow`` |
/// | 401, 402, 403 | ``ResponseClass/stopRun`` |
///
/// No answer at all (a transport error, a timeout) is not a status: the sender treats it as a
/// lost answer (``Exchange/noAnswer(_:)``), settled as a create that may have been acted on.
public enum ResponseClass: Sendable, Equatable {
    case success
    case retry
    case rateLimited
    case unavailable
    case failRow
    case stopRun
    case redirect

    /// The class of an HTTP status.
    public init(status: Int) {
        switch status {
        case 200...299: self = .success
        case 300...399: self = .redirect
        case 401, 402, 403: self = .stopRun
        case 429: self = .rateLimited
        case 503: self = .unavailable
        case 408, 409, 500...599: self = .retry
        default: self = .failRow
        }
    }
}

/// Retry settings and the backoff function.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts per row, the first included.
    public var maxAttempts: Int
    /// The first backoff step.
    public var baseDelay: Duration
    /// The longest backoff step.
    public var maxDelay: Duration
    /// The longest pause a Retry-After may impose.
    public var maxRetryAfter: Duration

    /// A policy with the given values.
    public init(
        maxAttempts: Int = 5,
        baseDelay: Duration = .milliseconds(500),
        maxDelay: Duration = .seconds(30),
        maxRetryAfter: Duration = .seconds(300)
    ) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// The wait before retry number `retry` (1 for the first retry): capped exponential backoff
    /// with full jitter. The cap applies before the jitter; `jitter` is in 0...1.
    ///
    /// With the defaults (base 0.5 s, cap 30 s), the ceiling of each wait is:
    ///
    /// | retry | 1 | 2 | 3 | 4 | 5 | 6 | 7+ |
    /// | --- | --- | --- | --- | --- | --- | --- | --- |
    /// | ceiling | 0.5 s | 1 s | 2 s | 4 s | 8 s | 16 s | 30 s |
    ///
    /// and the wait itself is `ceiling × jitter`.
    public func backoff(retry: Int, jitter: Double) -> Duration {
        let exponent = min(max(retry - 1, 0), 30)
        let ceiling = min(maxDelay, baseDelay * (1 << exponent))
        return ceiling * min(max(jitter, 0), 1)
    }

    /// The pause a `Retry-After` value asks for (delay-seconds or an HTTP-date), capped at
    /// ``maxRetryAfter``; nil when the value is missing or unreadable.
    public func retryAfter(_ value: String?, now: Date) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        let delay: Duration
        if let seconds = Int(value), seconds >= 0 {
            delay = .seconds(seconds)
        } else if let date = Self.httpDate(value) {
            delay = .milliseconds(max(0, Int64(date.timeIntervalSince(now) * 1000)))
        } else {
            return nil
        }
        return min(delay, maxRetryAfter)
    }

    /// Parses an RFC 9110 IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
    static func httpDate(_ value: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: value)
    }
}
