import ArgumentParser

/// `verilock-batch ledger`: care of the ledger file.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Check the ledger, or copy it consistently while runs may be going.",
        subcommands: [LedgerCheckCommand.self, LedgerBackupCommand.self]
    )
}
