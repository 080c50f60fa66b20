import Dispatch
import Foundation
import Synchronization
import VerilockBatch

/// SIGINT, SIGTERM and SIGHUP (a closed terminal or ssh session) for a run: the first asks the run to stop (no new requests, the ones in
/// flight get their grace period, what is done is recorded and written); a second one exits at
/// once (the ledger stays sound: every change to it is a transaction).
///
/// A second signal within ``duplicateWindow`` of the first is the same request delivered twice
/// (GNU `timeout` signals the child and then its whole process group; a terminal's Ctrl-C
/// reaches every process of the group) and is ignored, so that such a stop still finishes its
/// files and records its exit code.
final class SignalHandling {
    /// How soon after the first a second signal counts as the same one.
    static let duplicateWindow: Duration = .seconds(1)

    private let sources: [any DispatchSourceSignal]

    /// What a signal does.
    private enum Action { case stop, ignore, exit }

    init(control: RunControl) {
        var sources: [any DispatchSourceSignal] = []
        let first = Mutex<ContinuousClock.Instant?>(nil)
        for (number, reason) in [(SIGINT, RunControl.StopReason.interrupt), (SIGTERM, .terminate), (SIGHUP, .hangUp)] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                let now = ContinuousClock.now
                // Under one lock: the handlers of different signals may run at the same time, and
                // a second signal must see the first one's time once it sees its stop request.
                let action = first.withLock { start -> Action in
                    if control.requestStop(reason) {
                        start = now
                        return .stop
                    }
                    if let start, now - start < Self.duplicateWindow { return .ignore }
                    return .exit
                }
                switch action {
                case .stop:
                    printError(
                        "\(reason.signalName): stopping; requests in flight get \(control.grace) to finish. "
                            + "Send it again to exit at once.")
                case .ignore:
                    return
                case .exit:
                    printError("\(reason.signalName) again: exiting at once; run the same command to continue.")
                    _exit(reason.exitStatus.rawValue)
                }
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    /// Restores the default signal handling.
    func cancel() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        signal(SIGHUP, SIG_DFL)
    }
}
