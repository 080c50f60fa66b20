import Foundation
import UnixSignals
import VerilockBatch

/// SIGINT, SIGTERM and SIGHUP (a closed terminal or ssh session) for a run, through
/// ServiceLifecycle's `UnixSignalsSequence`: the first asks the run to stop (no new requests,
/// the ones in flight get their grace period, what is done is recorded and written); a second
/// one exits at once (the ledger stays sound: every change to it is a transaction).
///
/// A second signal within ``duplicateWindow`` of the first is the same request delivered twice
/// (GNU `timeout` signals the child and then its whole process group; a terminal's Ctrl-C
/// reaches every process of the group) and is ignored, so that such a stop still finishes its
/// files and records its exit code.
final class SignalHandling: Sendable {
    /// How soon after the first a second signal counts as the same one.
    static let duplicateWindow: Duration = .seconds(1)

    private let listener: Task<Void, Never>

    /// Traps the three signals (they are registered when this returns) and handles them in
    /// order, one at a time, until ``cancel()``.
    init(control: RunControl) async {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm, .sighup)
        listener = Task {
            var first: ContinuousClock.Instant?
            for await signal in signals {
                let reason: RunControl.StopReason =
                    signal == .sigint ? .interrupt : signal == .sighup ? .hangUp : .terminate
                let now = ContinuousClock.now
                if control.requestStop(reason) {
                    first = now
                    printError(
                        "\(reason.signalName): stopping; requests in flight get \(control.grace) to finish. "
                            + "Send it again to exit at once.")
                } else if let first, now - first < Self.duplicateWindow {
                    continue
                } else {
                    printError("\(reason.signalName) again: exiting at once; run the same command to continue.")
                    _exit(reason.exitStatus.rawValue)
                }
            }
        }
    }

    /// Stops listening and restores the default signal handling.
    func cancel() {
        listener.cancel()
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        signal(SIGHUP, SIG_DFL)
    }
}
