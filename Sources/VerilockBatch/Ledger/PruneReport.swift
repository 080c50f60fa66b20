/// What `prune` removed from a ledger (or, in a dry run, would remove).
public struct PruneReport: Sendable, Equatable, Codable {
    /// The ledger's path.
    public var ledger: String
    /// Whether nothing was changed.
    public var dryRun = false
    /// Runs whose history (rows and input files) went.
    public var runs = 0
    /// History rows deleted.
    public var runRows = 0
    /// Applicants whose personal data was erased.
    public var applicantsErased = 0
    /// The ledger's size (with its WAL) before and after, in bytes.
    public var bytesBefore: Int64 = 0
    public var bytesAfter: Int64 = 0

    /// Whether anything was (or would be) removed.
    public var removedAnything: Bool { runs > 0 || runRows > 0 || applicantsErased > 0 }

    /// The text `prune` prints.
    public var text: String {
        let verb = dryRun ? "would remove" : "removed"
        var line =
            "\(verb): history of \(runs) runs (\(runRows) rows), personal data of \(applicantsErased) applicants"
        if !dryRun { line += "; ledger \(bytesBefore) -> \(bytesAfter) bytes" }
        return "ledger \(ledger)\n" + line
    }
}

extension PruneReport: JSONReport {}
