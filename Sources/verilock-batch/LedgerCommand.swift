import ArgumentParser

/// `verilock-batch ledger`: care of the ledger file.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Check the ledger, back it up, or copy it to another backend.",
        discussion: """
            The ledger is the tool's memory: who has a session, which requests may have reached the API, \
            what every run did. These commands never send anything.

            Examples:
              verilock-batch ledger check jobs/nightly.yaml
              verilock-batch ledger backup jobs/nightly.yaml backups/nightly.sqlite
              verilock-batch ledger copy state/nightly.sqlite postgresql://batch@db/kyc
            """,
        subcommands: [LedgerCheckCommand.self, LedgerBackupCommand.self, LedgerCopyCommand.self]
    )
}
