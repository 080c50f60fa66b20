import Synchronization

/// The clock of a deterministic simulation: time moves only when the ``SimulationExecutor`` has
/// nothing left to run, straight to the earliest sleeper's deadline. Sleepers due at the same
/// instant wake in the order they went to sleep.
final class SimulationClock: Clock, Sendable {
    typealias Instant = TestClock.Instant

    private struct Sleeper {
        var deadline: Duration
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Duration.zero
        var nextID = 0
        var sleepers: [Int: Sleeper] = [:]
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())

    var now: Instant { Instant(offset: state.withLock { $0.now }) }
    var minimumResolution: Duration { .nanoseconds(1) }

    /// Seconds since the simulation began.
    var seconds: Double {
        let (whole, fraction) = now.offset.components
        return Double(whole) + Double(fraction) / 1e18
    }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelled = state.withLock { state in
                    if state.cancelled.contains(id) { return true }
                    state.sleepers[id] = Sleeper(deadline: deadline.offset, continuation: continuation)
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let sleeper = state.withLock { state in
                state.cancelled.insert(id)
                return state.sleepers.removeValue(forKey: id)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time to the earliest deadline and wakes every sleeper due by then, in the order they
    /// went to sleep; false when nobody sleeps.
    func fireNext() -> Bool {
        let due = state.withLock { state -> [Sleeper] in
            guard let earliest = state.sleepers.values.map(\.deadline).min() else { return [] }
            state.now = max(state.now, earliest)
            let ids = state.sleepers.filter { $0.value.deadline <= state.now }.keys.sorted()
            return ids.compactMap { state.sleepers.removeValue(forKey: $0) }
        }
        for sleeper in due { sleeper.continuation.resume() }
        return !due.isEmpty
    }

    /// Moves time on by `duration` (between runs: the machine was off, or it was the next night).
    func advance(by duration: Duration) {
        state.withLock { $0.now += duration }
    }
}
