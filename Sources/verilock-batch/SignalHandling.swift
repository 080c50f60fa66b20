import Dispatch
import Foundation
import VerilockBatch

/// SIGINT and SIGTERM for a run: the first asks the run to stop (no new requests, the ones in
/// flight get their grace period, what is done is recorded and written); a second one exits at
/// once (the ledger stays sound: every change to it is a transaction).
final class SignalHandling {
    private let sources: [any DispatchSourceSignal]

    init(control: RunControl) {
        var sources: [any DispatchSourceSignal] = []
        for (number, reason) in [(SIGINT, RunControl.StopReason.interrupt), (SIGTERM, .terminate)] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if control.requestStop(reason) {
                    printError(
                        "\(reason.signalName): stopping; requests in flight get \(control.grace) to finish. "
                            + "Send it again to exit at once.")
                } else {
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
    }
}
