import Foundation

/// An earlier run's existing rows cannot be written again: an input file is gone, changed, or
/// read differently now.
public struct ReplayError: Error, Sendable, Equatable, LocalizedError, CustomStringConvertible {
    public var runID: Int64
    public var path: String
    public var reason: String

    public var description: String {
        "cannot write run \(runID)'s rows that already had a session again: its input \(path) cannot be read as "
            + "the run read it (\(reason)). Its new and rejected rows are in the ledger; `export --all` writes "
            + "every session"
    }

    public var errorDescription: String? { description }
}
