import Synchronization

/// Lets the outside (signal handlers, tests) ask a running job to stop: no new request starts,
/// requests in flight get a grace period, then what is done is recorded and written.
public final class RunControl: Sendable {
    /// Why a run was asked to stop.
    public enum StopReason: Sendable, Equatable {
        /// SIGINT (exit 130).
        case interrupt
        /// SIGTERM (exit 143).
        case terminate
        /// SIGHUP, the terminal or ssh session went away (exit 129).
        case hangUp

        /// The process exit code for this reason.
        public var exitStatus: ExitStatus {
            switch self {
            case .interrupt: .interrupted
            case .terminate: .terminated
            case .hangUp: .hungUp
            }
        }
        /// The signal's name.
        public var signalName: String {
            switch self {
            case .interrupt: "SIGINT"
            case .terminate: "SIGTERM"
            case .hangUp: "SIGHUP"
            }
        }
    }

    private struct State {
        var reason: StopReason?
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())
    /// How long requests in flight may take to finish after a stop request.
    public let grace: Duration

    /// A control with the given grace period.
    public init(grace: Duration = .seconds(10)) {
        self.grace = grace
    }

    /// The reason, once a stop was requested.
    public var stopReason: StopReason? { state.withLock { $0.reason } }

    /// Asks the run to stop; returns false when a stop was already requested (a second signal).
    @discardableResult
    public func requestStop(_ reason: StopReason) -> Bool {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>]? in
            guard state.reason == nil else { return nil }
            state.reason = reason
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume() }
        return true
    }

    /// Returns once a stop is requested (at once if it already was), or when the task is cancelled.
    public func waitForStop() async {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.reason != nil || state.cancelled.contains(id) { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.cancelled.insert(id)
                return state.waiters.removeValue(forKey: id)
            }
            waiter?.resume()
        }
    }
}

/// A run stopped by a signal before its inputs were read: nothing of it was recorded.
public struct RunInterrupted: Error, Sendable, Equatable, CustomStringConvertible {
    /// The signal that stopped it.
    public var reason: RunControl.StopReason

    public var description: String {
        "interrupted by \(reason.signalName) while reading the inputs: nothing was recorded or sent; run again"
    }
}
