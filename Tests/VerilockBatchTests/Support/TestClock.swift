import Synchronization

/// A clock for tests: `sleep` returns at once and moves the clock to the deadline, so waits are
/// measured, never slept.
final class TestClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let current = Mutex(Duration.zero)
    private let slept = Mutex([Duration]())

    var now: Instant { Instant(offset: current.withLock { $0 }) }
    var minimumResolution: Duration { .nanoseconds(1) }

    /// Every sleep asked for, in order.
    var sleeps: [Duration] { slept.withLock { $0 } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        current.withLock { now in
            slept.withLock { $0.append(deadline.offset - now) }
            if deadline.offset > now { now = deadline.offset }
        }
        await Task.yield()
    }

    func advance(by duration: Duration) {
        current.withLock { $0 += duration }
    }
}
