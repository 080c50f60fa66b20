import Foundation

/// A problem with the ledger file: the run stops.
public enum LedgerError: Error, Sendable, Equatable {
    /// The ledger cannot be opened, created or migrated.
    case cannotOpen(path: String, reason: String)
    /// A read or write failed.
    case database(path: String, reason: String)
    /// The connection to a database ledger was lost during a command: what was committed
    /// stays; the command stops.
    case unreachable(path: String, reason: String)
    /// Another run holds the ledger.
    case locked(path: String, holder: String)
    /// The ledger was written by a newer version of the tool: its schema has `version`, this
    /// tool knows up to `known`.
    case tooNew(path: String, version: String, known: String)
}

extension LedgerError: LocalizedError, CustomStringConvertible {
    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            "cannot open the ledger \(path): \(reason)"
        case .database(let path, let reason):
            "ledger \(path): \(reason)"
        case .unreachable(let path, let reason):
            "lost the connection to the ledger \(path) (\(reason)): what was committed is kept; rows not yet "
                + "settled stay pending for the next run"
        case .locked(let path, let holder):
            "another run holds the ledger \(path) (\(holder)): wait for it to finish, then run again"
        case .tooNew(let path, let version, let known):
            "the ledger \(path) has schema '\(version)', newer than this verilock-batch knows (up to '\(known)'): "
                + "run a newer verilock-batch; this one leaves the ledger as it is"
        }
    }

    public var errorDescription: String? { description }
}
