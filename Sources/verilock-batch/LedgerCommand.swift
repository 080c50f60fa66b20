import ArgumentParser

/// `verilock-batch ledger`: care of the ledger file.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Check the ledger, back it up, or copy it to another backend.",
        subcommands: [LedgerCheckCommand.self, LedgerBackupCommand.self, LedgerCopyCommand.self]
    )
}
