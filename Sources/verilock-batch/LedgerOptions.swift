import ArgumentParser
import Foundation
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
        try Self.load(job: job, ledger: ledger)
    }

    static func load(job: String?, ledger: String?) throws -> JobConfiguration {
        var overrides = JobOverrides()
        overrides.ledger = ledger
        return try JobLoader.load(path: job, overrides: overrides, forRun: false)
    }

    /// The job and its ledger, which must exist: reading commands never create one.
    func openLedger(now: Date) async throws -> (JobConfiguration, any Ledger) {
        try await Self.openLedger(job: job, ledger: ledger, now: now)
    }

    static func openLedger(job: String?, ledger: String?, now: Date) async throws -> (JobConfiguration, any Ledger) {
        let job = try load(job: job, ledger: ledger)
        let path = job.expand(job.ledgerPath, runID: nil, now: now)
        guard FileManager.default.fileExists(atPath: path) else {
            throw LedgerError.cannotOpen(path: path, reason: "no such file: no run has used this ledger yet")
        }
        return (job, try await SQLiteLedger.open(path: path))
    }
}
