import Foundation

/// A job, resolved: the job file's values with the flags applied, paths made absolute or
/// relative to the job file, every value checked.
public struct JobConfiguration: Sendable, Equatable {
    /// The job's name (run records, report, metrics, `{job}` in paths).
    public var name = "verilock-batch"
    /// Input paths (globs expanded at run time), `-` for standard input.
    public var inputs: [String] = []
    /// The input format.
    public var format = InputFormat.auto
    /// How the input files are compressed.
    public var compression = InputCompression.auto
    /// The input files' text encoding (a UTF-16 byte-order mark wins).
    public var encoding = InputEncoding.utf8
    /// The CSV delimiter, or nil to detect it.
    public var delimiter: UInt8?
    /// Session field ← input columns.
    public var mapping = ColumnMapping()
    /// The request template.
    public var template = SessionTemplate(profileID: "")
    /// API settings.
    public var api = APISettings()
    /// The ledger: a file path (SQLite), or a `postgresql://` URL (``PostgresLedgerURL``).
    public var ledgerPath = "state/{job}.sqlite"
    /// A file holding the PostgreSQL ledger's password (job key `ledger_password_file`).
    public var ledgerPasswordFile: String?
    /// The output path (may hold `{job}`, `{date}`, `{run}`).
    public var outputPath = "out/{job}-{date}.csv"
    /// The output format.
    public var outputFormat = OutputFormat.csv
    /// Which rows the output holds.
    public var include = IncludeMode.all
    /// The output's columns.
    public var outputColumns = OutputColumn.defaults
    /// The rejects path (may hold `{job}`, `{date}`, `{run}`).
    public var rejectsPath = "out/{job}-{date}.rejects.csv"
    /// Neutralise spreadsheet formulas in CSV output.
    public var escapeFormulas = true
    /// Rerun rules.
    public var policy = RerunPolicy()
    /// What the ledger keeps, and for how long.
    public var retention = RetentionPolicy()
    /// Only this shard of the input, when set.
    public var shard: Shard?

    /// Defaults.
    public init() {}

    /// `path` with `{job}`, `{date}` (UTC, YYYY-MM-DD) and `{run}` replaced.
    public func expand(_ path: String, runID: Int64?, now: Date) -> String {
        var formatter = Date.ISO8601FormatStyle().year().month().day()
        formatter.timeZone = TimeZone(identifier: "UTC") ?? formatter.timeZone
        return path.replacingOccurrences(of: "{job}", with: name)
            .replacingOccurrences(of: "{date}", with: now.formatted(formatter))
            .replacingOccurrences(of: "{run}", with: runID.map(String.init) ?? "0")
    }
}

/// A column of the output file: one the tool makes, or an input column passed through.
public enum OutputColumn: Sendable, Hashable {
    /// A column the tool makes.
    case field(OutputField)
    /// An input column, copied from the row as it was read.
    case input(String)

    /// The column's name in the output's header.
    public var name: String {
        switch self {
        case .field(let field): field.rawValue
        case .input(let name): name
        }
    }

    /// The column named `name`: a tool column if there is one of that name, else an input column.
    public init(name: String) {
        self = OutputField(rawValue: name).map(OutputColumn.field) ?? .input(name)
    }

    /// The default columns.
    public static let defaults: [OutputColumn] = [
        .field(.externalID), .field(.applicantEmail), .field(.applicantName), .field(.sessionID),
        .field(.sessionURL), .field(.expiresAt), .field(.status),
    ]
}

/// A column the tool makes in the output file.
public enum OutputField: String, Sendable, CaseIterable {
    case externalID = "external_id"
    case applicantEmail = "applicant_email"
    case applicantName = "applicant_name"
    case sessionID = "session_id"
    case sessionURL = "session_url"
    case expiresAt = "expires_at"
    case status
    case file
    case line
    /// What `sync` last heard: the session's status, decision and completion time.
    case sessionStatus = "session_status"
    case decision
    case completedAt = "completed_at"
}

/// Job values given as flags; each one set overrides the job file.
public struct JobOverrides: Sendable, Equatable {
    public var inputs: [String] = []
    public var format: InputFormat?
    public var compression: InputCompression?
    public var profileID: String?
    public var ledger: String?
    public var output: String?
    public var rejects: String?
    public var baseURL: String?
    public var concurrency: Int?
    public var rateLimit: RateLimit?
    public var maxAttempts: Int?
    public var shard: Shard?

    public init() {}
}
