import Synchronization

/// Whether a run with `unknown_outcome: auto` may still settle by lookup. The first lookup that
/// finds the endpoint missing or untrustworthy switches the whole run to key-only settlement,
/// once; the reason goes into the log and the run report.
public final class LookupFallback: Sendable {
    private let reason = Mutex<String?>(nil)

    /// A run that may look up.
    public init() {}

    /// Why lookups were given up, if they were.
    public var fallbackReason: String? { reason.withLock { $0 } }

    /// Gives lookups up for the rest of the run; true only for the first call.
    func giveUp(because why: String) -> Bool {
        reason.withLock { reason in
            guard reason == nil else { return false }
            reason = why
            return true
        }
    }
}
