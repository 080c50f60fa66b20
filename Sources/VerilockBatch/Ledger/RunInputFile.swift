/// An input file of a run, as the ledger recorded it.
public struct RunInputFile: Sendable, Equatable {
    public var fileIndex: Int
    public var path: String
    /// Its SHA-256 when the run read it (nil for standard input, or before ledger version 5).
    public var sha256: String?
    /// Rows of the run's shard read from it.
    public var rows: Int?
    /// How many of them already had a session (not kept row by row).
    public var existing: Int?
    /// Whether its rows were carried over from an earlier run rather than read.
    public var carried: Bool
}
