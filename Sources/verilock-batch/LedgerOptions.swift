import ArgumentParser
import Foundation
import Logging
import VerilockBatch

/// Which ledger a command reads: the job's, or the one `--ledger` names.
struct LedgerOptions: ParsableArguments {
    @Argument(help: "The job file (YAML); its ledger is read.")
    var job: String?

    @Option(name: .long, help: "The ledger (a file, or a postgresql:// URL), instead of a job's.")
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

    /// The job and its ledger, which must exist: reading commands never create one. The caller
    /// closes it.
    func openLedger(now: Date, use: LedgerAccess.Use = .read) async throws -> (JobConfiguration, LedgerAccess) {
        try await Self.openLedger(job: job, ledger: ledger, now: now, use: use)
    }

    static func openLedger(job: String?, ledger: String?, now: Date, use: LedgerAccess.Use = .read) async throws
        -> (JobConfiguration, LedgerAccess)
    {
        let job = try load(job: job, ledger: ledger)
        guard LedgerAccess.exists(for: job, now: now) else {
            throw LedgerError.cannotOpen(
                path: job.expand(job.ledgerPath, runID: nil, now: now),
                reason: "no such file: no run has used this ledger yet")
        }
        let logger = Logger(label: "verilock-batch")
        return (job, try await LedgerAccess.open(job: job, use: use, now: now, logger: logger))
    }
}
