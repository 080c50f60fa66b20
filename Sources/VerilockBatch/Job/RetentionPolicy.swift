/// How long the ledger keeps what it does not need for exactly-once (job key `retention`).
public struct RetentionPolicy: Sendable, Equatable {
    /// Run history (each run's rows and input files) older than this is deleted; nil keeps it.
    public var runs: Duration? = .seconds(90 * 86_400)
    /// The personal data (e-mail, name, link, token, input record, error text) of applicants
    /// whose session ended (its link expired), or whose create failed for good, longer ago than
    /// this is erased; their external_id, state, generation, session id and fingerprint stay, so
    /// a rerun still sends nothing for them. Nil keeps it.
    public var personalData: Duration?

    /// Defaults: run history for 90 days, personal data kept.
    public init(runs: Duration? = .seconds(90 * 86_400), personalData: Duration? = nil) {
        self.runs = runs
        self.personalData = personalData
    }

    /// A period as the job file writes it (`90d`), or `forever`.
    public static func text(_ period: Duration?) -> String {
        guard let period else { return "forever" }
        let seconds = period.components.seconds
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        return "\(seconds)s"
    }
}
