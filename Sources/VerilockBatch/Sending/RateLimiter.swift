/// The pure arithmetic of the generic cell rate algorithm (GCRA), on durations since an origin.
///
/// Each request reserves the next slot: slots are `interval` apart, and up to `burst` of them may
/// be taken at once after a quiet spell. A pause moves every later slot past its end.
public struct GCRA: Sendable, Equatable {
    /// The time between two requests at the steady rate.
    public private(set) var interval: Duration
    /// How many requests may go at once after a quiet spell.
    public let burst: Int
    /// The theoretical arrival time of the next request.
    private var theoreticalArrival: Duration = .zero

    /// A limiter allowing `requestsPerSecond`, with `burst` requests at once.
    public init(requestsPerSecond: Double, burst: Int) {
        self.interval = Self.interval(for: requestsPerSecond)
        self.burst = max(1, burst)
    }

    private static func interval(for rate: Double) -> Duration {
        .nanoseconds(Int64((1_000_000_000 / max(rate, 0.001)).rounded()))
    }

    /// Reserves a slot for a request arriving at `now`; returns how long it must wait.
    public mutating func reserve(at now: Duration) -> Duration {
        let tolerance = interval * (burst - 1)
        let arrival = max(theoreticalArrival, now)
        let allowedAt = arrival - tolerance
        theoreticalArrival = arrival + interval
        return max(.zero, allowedAt - now)
    }

    /// Holds every later slot until `until`; after that the steady rate resumes, with no burst.
    public mutating func pause(until: Duration) {
        let tolerance = interval * (burst - 1)
        theoreticalArrival = max(theoreticalArrival, until + tolerance)
    }

    /// Changes the steady rate (e.g. when the server reports a smaller budget).
    public mutating func setRate(requestsPerSecond: Double) {
        interval = Self.interval(for: requestsPerSecond)
    }
}

/// The rate limiter every request of a run goes through: an actor over a ``GCRA`` and a clock.
///
/// A request calls ``acquire()``; a 429 or 503 calls ``pause(for:)``, which holds every request
/// (also those already waiting for their slot) until the pause ends.
public actor RateLimiter<C: Clock> where C.Duration == Duration {
    private var gcra: GCRA
    private let clock: C
    private let origin: C.Instant
    private var pausedUntil: Duration = .zero
    /// The configured rate in requests per second.
    public private(set) var requestsPerSecond: Double

    /// A limiter at `requestsPerSecond` with `burst`, timed by `clock`.
    public init(requestsPerSecond: Double, burst: Int = 2, clock: C) {
        self.gcra = GCRA(requestsPerSecond: requestsPerSecond, burst: burst)
        self.clock = clock
        self.origin = clock.now
        self.requestsPerSecond = requestsPerSecond
    }

    private var elapsed: Duration { origin.duration(to: clock.now) }

    /// Waits until a request may go.
    public func acquire() async throws {
        while true {
            let wait = gcra.reserve(at: elapsed)
            if wait > .zero { try await clock.sleep(for: wait, tolerance: nil) }
            let now = elapsed
            if now >= pausedUntil { return }
            try await clock.sleep(for: pausedUntil - now, tolerance: nil)
        }
    }

    /// Pauses every request for `duration` from now.
    public func pause(for duration: Duration) {
        let until = elapsed + duration
        if until > pausedUntil {
            pausedUntil = until
            gcra.pause(until: until)
        }
    }

    /// Lowers the rate to `requestsPerSecond` if that is below the current one; true if it did.
    @discardableResult
    public func tighten(to requestsPerSecond: Double) -> Bool {
        guard requestsPerSecond < self.requestsPerSecond else { return false }
        setRate(requestsPerSecond)
        return true
    }

    /// Sets the rate to `requestsPerSecond`, up or down (for `rate_limit: auto`); true if it changed.
    @discardableResult
    public func follow(_ requestsPerSecond: Double) -> Bool {
        guard abs(requestsPerSecond - self.requestsPerSecond) > 1e-9 else { return false }
        setRate(requestsPerSecond)
        return true
    }

    private func setRate(_ requestsPerSecond: Double) {
        self.requestsPerSecond = requestsPerSecond
        gcra.setRate(requestsPerSecond: requestsPerSecond)
    }
}

/// How the configured rate becomes the limiter's rate, and how it follows the server.
public struct RateAdaptation: Sendable, Equatable {
    /// The share of the key's budget this job takes (`api.rate_share`).
    public var share: Double
    /// Follow `X-RateLimit-Limit` up and down (`rate_limit: auto`); otherwise only down.
    public var followServer: Bool
    /// The fraction of the allowed rate actually used, so requests that arrive out of order at a
    /// fixed-window server never spill one over a window's budget (1% by default).
    public var headroom: Double

    /// Settings with the given values.
    public init(share: Double = 1, followServer: Bool = false, headroom: Double = 0.99) {
        self.share = share
        self.followServer = followServer
        self.headroom = headroom
    }

    /// The limiter's rate for an allowed rate of `requestsPerSecond`.
    public func effective(_ requestsPerSecond: Double) -> Double {
        requestsPerSecond * share * headroom
    }
}
