import ArgumentParser
import VerilockBatch

/// Which ledger a command reads: the job's, or the one `--ledger` names.
struct LedgerOptions: ParsableArguments {
    @Argument(help: "The job file (YAML); its ledger is read.")
    var job: String?

    @Option(name: .long, help: "The ledger file, instead of a job's.")
    var ledger: String?

    func validate() throws {
        if job == nil && ledger == nil { throw ValidationError("name a job file or --ledger FILE") }
    }

    /// The job (its values, unchecked for a run) with `--ledger` applied.
    func load() throws -> JobConfiguration {
        var overrides = JobOverrides()
        overrides.ledger = ledger
        return try JobLoader.load(path: job, overrides: overrides, forRun: false)
    }
}
