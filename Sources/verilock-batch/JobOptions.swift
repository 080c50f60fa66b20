import ArgumentParser
import VerilockBatch

/// The job flags: each one overrides the job file's value; with them the job file is optional.
struct JobOptions: ParsableArguments {
    @Argument(help: "The job file (YAML). Optional when the flags say everything.")
    var job: String?

    @Option(name: .long, help: "An input file (repeatable); - reads standard input.")
    var input: [String] = []

    @Option(name: .long, help: "Input format (auto: by the file's extension).")
    var format: InputFormat?

    @Option(name: .long, help: "Input compression (auto: gzip by a .gz name or gzip's first bytes).")
    var compression: InputCompression?

    @Option(name: .customLong("profile-id"), help: "The verification profile (UUID).")
    var profileID: String?

    @Option(name: .long, help: "The ledger: a file (SQLite), or a postgresql:// URL.")
    var ledger: String?

    @Option(name: .long, help: "The output (mail-merge) file.")
    var output: String?

    @Option(name: .long, help: "The rejects file.")
    var rejects: String?

    @Option(name: .customLong("base-url"), help: "The API's base URL (https; http only on loopback).")
    var baseURL: String?

    @Option(name: .long, help: "Requests in flight at once.")
    var concurrency: Int?

    @Option(name: .customLong("rate-limit"), help: "Requests per time: N/min or N/s.")
    var rateLimit: String?

    @Option(name: .customLong("max-attempts"), help: "Attempts per row before it is left pending.")
    var maxAttempts: Int?

    @Option(name: .long, help: "Only shard K of N of the input (by a stable hash of external_id): K/N.")
    var shard: String?

    func validate() throws {
        if let rateLimit, RateLimit(parsing: rateLimit) == nil {
            throw ValidationError("--rate-limit must look like 120/min or 2/s, not '\(rateLimit)'")
        }
        if let shard, Shard(parsing: shard) == nil {
            throw ValidationError("--shard must be K/N with 1 <= K <= N, not '\(shard)'")
        }
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if let maxAttempts, maxAttempts < 1 { throw ValidationError("--max-attempts must be at least 1") }
    }

    /// The flags as overrides of the job file.
    var overrides: JobOverrides {
        var overrides = JobOverrides()
        overrides.inputs = input
        overrides.format = format
        overrides.compression = compression
        overrides.profileID = profileID
        overrides.ledger = ledger
        overrides.output = output
        overrides.rejects = rejects
        overrides.baseURL = baseURL
        overrides.concurrency = concurrency
        overrides.rateLimit = rateLimit.flatMap(RateLimit.init(parsing:))
        overrides.maxAttempts = maxAttempts
        overrides.shard = shard.flatMap(Shard.init(parsing:))
        return overrides
    }
}
