import Logging
import Synchronization

/// Shows a run's progress: on a terminal, one line on stderr redrawn at most four times a
/// second; elsewhere, a log line every 30 seconds; or nothing.
public final class ProgressReporter: Sendable {
    /// How progress is shown.
    public enum Mode: Sendable, Equatable {
        /// One redrawn line (a terminal).
        case line
        /// A log line every `interval`.
        case log(interval: Duration)
        /// Nothing.
        case off
    }

    private struct State {
        var last: ContinuousClock.Instant?
        var drawn = false
    }

    private let mode: Mode
    private let write: @Sendable (String) -> Void
    private let logger: Logger
    private let state: Mutex<State>

    /// A reporter writing terminal lines through `write` (stderr) or log lines through `logger`.
    public init(mode: Mode, logger: Logger, write: @escaping @Sendable (String) -> Void) {
        self.mode = mode
        self.logger = logger
        self.write = write
        // A log line comes only after a full interval; a terminal line at once.
        if case .log = mode {
            state = Mutex(State(last: ContinuousClock.now))
        } else {
            state = Mutex(State())
        }
    }

    /// Shows `progress` if enough time passed since the last update.
    public func update(_ progress: RunProgress) {
        let interval: Duration
        switch mode {
        case .off: return
        case .line: interval = .milliseconds(250)
        case .log(let every): interval = every
        }
        let now = ContinuousClock.now
        let due = state.withLock { state in
            if let last = state.last, last.duration(to: now) < interval { return false }
            state.last = now
            state.drawn = true
            return true
        }
        guard due else { return }
        switch mode {
        case .line: write("\r\u{1B}[K" + progress.line)
        case .log: logger.notice("progress: \(progress.line)")
        case .off: break
        }
    }

    /// Clears the progress line (before the summary is printed).
    public func finish() {
        let drawn = state.withLock { $0.drawn }
        if mode == .line && drawn { write("\r\u{1B}[K") }
    }
}
