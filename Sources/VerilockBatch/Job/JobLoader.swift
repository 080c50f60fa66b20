import Foundation
import Yams

/// Reads a job file (YAML, strictly), applies the flags, and checks every value.
public enum JobLoader {
    static let topKeys = [
        "name", "input", "session", "api", "ledger", "ledger_password_file", "output", "rejects", "policy", "retention",
    ]
    static let inputKeys = ["files", "format", "compression", "delimiter", "encoding", "columns", "metadata_columns"]
    static let sessionKeys = ["profile_id", "redirect_url", "expires_in", "metadata"]
    static let apiKeys = [
        "base_url", "key_env", "key_file", "rate_limit", "rate_share", "concurrency", "timeout", "server_timeout",
        "max_attempts",
        "unknown_outcome", "simulator", "proxy", "ca_file",
    ]
    static let simulatorKeys = [
        "profiles", "rate_limit", "window_seconds", "latency_ms", "fail_rate", "reset_before_commit",
        "reset_after_commit", "slow_rate", "slow_ms", "seed", "idempotency", "lookup", "lookup_endpoint",
    ]
    static let outputKeys = ["file", "format", "include", "columns", "csv"]
    static let outputCSVKeys = ["escape_formulas"]
    static let policyKeys = ["reissue_expired", "reissue_declined", "reissue_margin", "retry_failed"]
    static let retentionKeys = ["runs", "personal_data"]

    /// Loads the job at `path` (or only the flags when nil) and checks it; `forRun: false` skips
    /// the checks only a run needs (inputs, profile), for `status` and `export`.
    public static func load(
        path: String?, overrides: JobOverrides, forRun: Bool = true
    ) throws(JobError) -> JobConfiguration {
        var job = JobConfiguration()
        var base = ""
        if let path {
            var info = stat()
            if stat(path, &info) == 0, info.st_size > maxJobFileBytes {
                throw .unreadable(
                    path: path, reason: "the job file is \(info.st_size) bytes; at most \(maxJobFileBytes) are read")
            }
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
            }
            base = PathName.parent(of: path)
            job.name = PathName.deletingExtension(PathName.lastComponent(of: path))
            try apply(yaml: text, file: path, to: &job)
            job.inputs = job.inputs.map { resolve($0, base: base) }
            if !PostgresLedgerURL.isPostgres(job.ledgerPath) { job.ledgerPath = resolve(job.ledgerPath, base: base) }
            job.ledgerPasswordFile = job.ledgerPasswordFile.map { resolve($0, base: base) }
            job.outputPath = resolve(job.outputPath, base: base)
            job.rejectsPath = resolve(job.rejectsPath, base: base)
            job.api.keyFile = job.api.keyFile.map { resolve($0, base: base) }
            job.api.caFile = job.api.caFile.map { resolve($0, base: base) }
        }
        apply(overrides, to: &job)
        job.mapping.passthrough = job.outputColumns.compactMap { column in
            if case .input(let name) = column { return name }
            return nil
        }
        try checkLedgerPath(job.ledgerPath, file: overrides.ledger != nil ? "--ledger" : path ?? "flags")
        if forRun { try check(job, file: path ?? "flags") }
        return job
    }

    /// Refuses a ledger path that changes with the date or the run: each new ledger would forget
    /// everyone who already has a session, and send them a second one.
    static func checkLedgerPath(_ path: String, file: String) throws(JobError) {
        for placeholder in ["{date}", "{run}"] where path.contains(placeholder) {
            throw .invalidValue(
                path: file, line: nil, key: "ledger",
                message: "\(placeholder) makes a new ledger for each \(placeholder == "{date}" ? "day" : "run"), which "
                    + "forgets everyone who already has a session and sends them another: use one fixed path "
                    + "(such as state/{job}.sqlite)")
        }
        if PostgresLedgerURL.isPostgres(path) {
            do {
                _ = try PostgresLedgerURL(parsing: path)
            } catch {
                throw .invalidValue(path: file, line: nil, key: "ledger", message: error.description)
            }
            return
        }
        var isDirectory: ObjCBool = false
        let last = PathName.lastComponent(of: path)
        if path.hasSuffix("/") || last.isEmpty || last == "." || last == ".."
            || (FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue)
        {
            throw .invalidValue(
                path: file, line: nil, key: "ledger", message: "\(path) is a folder: name the ledger file")
        }
    }

    static func resolve(_ path: String, base: String) -> String {
        if path == "-" || path.hasPrefix("/") || base.isEmpty { return path }
        return normalize(base + "/" + path)
    }

    /// `a/./b/../c` → `a/c`, keeping leading `..` of a relative path.
    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
            } else if part == ".." && path.hasPrefix("/") && parts.isEmpty {
                continue
            } else {
                parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    static func apply(_ overrides: JobOverrides, to job: inout JobConfiguration) {
        if !overrides.inputs.isEmpty { job.inputs = overrides.inputs }
        if let value = overrides.format { job.format = value }
        if let value = overrides.compression { job.compression = value }
        if let value = overrides.profileID { job.template.profileID = value }
        if let value = overrides.ledger { job.ledgerPath = value }
        if let value = overrides.output { job.outputPath = value }
        if let value = overrides.rejects { job.rejectsPath = value }
        if let value = overrides.baseURL {
            job.api.baseURL = value
            job.api.simulator = nil
        }
        if let value = overrides.concurrency { job.api.concurrency = value }
        if let value = overrides.rateLimit { job.api.rateLimit = value }
        if let value = overrides.maxAttempts { job.api.maxAttempts = value }
        if let value = overrides.shard { job.shard = value }
    }

    /// The largest job file read (a job is a page of settings).
    static let maxJobFileBytes = 1 << 20

    /// The most YAML nodes a job file may hold.
    static let maxNodes = 20_000

    /// Refuses anchors and aliases (`&name`, `*name`: a few nested aliases expand into millions
    /// of nodes), and files of more than `budget` nodes. Stops at the first anchored node, so
    /// it never walks an expansion.
    static func refuseAnchors(_ node: Node, file: String, budget: inout Int) throws(JobError) {
        budget -= 1
        guard budget >= 0 else {
            throw .invalidValue(
                path: file, line: node.mark?.line, key: "job",
                message: "more than \(maxNodes) YAML values once aliases (*name) are expanded: job files may "
                    + "not use YAML anchors and aliases; write the values out")
        }
        if case .alias = node { throw anchorError(node, file: file) }
        if node.anchor != nil { throw anchorError(node, file: file) }
        switch node {
        case .sequence(let sequence):
            for item in sequence { try refuseAnchors(item, file: file, budget: &budget) }
        case .mapping(let mapping):
            for (key, value) in mapping {
                try refuseAnchors(key, file: file, budget: &budget)
                try refuseAnchors(value, file: file, budget: &budget)
            }
        case .scalar, .alias: break
        }
    }

    /// The first line (1-based) holding a YAML anchor or alias: `&name` or `*name` where a node
    /// starts (at the start of a line, or after `: `, `- `, `[`, `{` or `,`), outside quotes and
    /// comments.
    static func anchorLine(in yaml: String) -> Int? {
        for (index, line) in yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var quote: Character?
            var previous: Character?
            var beforeSpace: Character?
            for character in line {
                if let open = quote {
                    if character == open { quote = nil }
                    previous = character
                    continue
                }
                if character == "\"" || character == "'" {
                    quote = character
                } else if character == "#" && (previous == nil || previous == " ") {
                    break
                } else if character == "&" || character == "*" {
                    let nodeStart =
                        previous == nil || previous == "[" || previous == "{" || previous == ","
                        || (previous == " " && [nil, ":", "-", "[", "{", ","].contains(beforeSpace))
                    if nodeStart { return index + 1 }
                }
                if character != " " { beforeSpace = character }
                previous = character
            }
        }
        return nil
    }

    private static func anchorError(_ node: Node, file: String) -> JobError {
        .invalidValue(
            path: file, line: node.mark?.line, key: "job",
            message: "YAML anchors and aliases (&name, *name) are not allowed in job files: write the values out")
    }

    // swiftlint:disable:next function_body_length
    static func apply(yaml: String, file: String, to job: inout JobConfiguration) throws(JobError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw .unreadable(path: file, reason: "not valid YAML: \(error)")
        }
        guard let root else { throw .unreadable(path: file, reason: "the file is empty") }
        if let line = Self.anchorLine(in: yaml) {
            throw .invalidValue(
                path: file, line: line, key: "job",
                message: "YAML anchors and aliases (&name, *name) are not allowed in job files: write the values out "
                    + "(quote a value that starts with & or *)")
        }
        var budget = Self.maxNodes
        try refuseAnchors(root, file: file, budget: &budget)
        let top = try YAMLMapping(root, file: file, prefix: "", allowed: topKeys)
        if let name = try top.string("name") { job.name = name }
        if let input = try top.mapping("input", allowed: inputKeys) {
            if let files = try input.strings("files") { job.inputs = files }
            if let format = try input.choice("format", InputFormat.self) { job.format = format }
            if let value = try input.choice("compression", InputCompression.self) { job.compression = value }
            if let encoding = try input.choice("encoding", InputEncoding.self) { job.encoding = encoding }
            if let delimiter = try input.string("delimiter") {
                switch delimiter {
                case "auto": job.delimiter = nil
                case ",", ";", "\t": job.delimiter = delimiter.utf8.first
                case "\\t", "tab": job.delimiter = UInt8(ascii: "\t")
                default: throw input.fail("delimiter", "'\(delimiter)' is not one of \",\" \";\" \"\\t\" auto")
                }
            }
            var sources: [SessionField: [String]] = [:]
            if let columns = try input.mapping("columns", allowed: SessionField.allCases.map(\.rawValue)) {
                for entry in columns.all {
                    guard let field = SessionField(rawValue: entry.key) else { continue }
                    sources[field] = try columns.strings(entry.key)
                }
            }
            job.mapping = ColumnMapping(sources: sources, metadataColumns: try input.strings("metadata_columns") ?? [])
        }
        if let session = try top.mapping("session", allowed: sessionKeys) {
            if let value = try session.string("profile_id") { job.template.profileID = value }
            job.template.redirectURL = try session.string("redirect_url")
            job.template.expiresIn = try session.int("expires_in")
            if let (node, line) = session.node("metadata") {
                guard case .object(let object) = YAMLMapping.json(node) else {
                    throw .invalidValue(path: file, line: line, key: "session.metadata", message: "expected a mapping")
                }
                job.template.metadata = object
            }
        }
        if let api = try top.mapping("api", allowed: apiKeys) {
            job.api.baseURL = try api.string("base_url")
            if let value = try api.string("key_env") { job.api.keyEnvironmentVariable = value }
            job.api.keyFile = try api.string("key_file")
            if let text = try api.string("rate_limit") {
                guard let rate = RateLimit(parsing: text) else {
                    throw api.fail("rate_limit", "'\(text)' is not a rate like 120/min, 2/s or auto")
                }
                job.api.rateLimit = rate
            }
            if let value = try api.double("rate_share") { job.api.rateShare = value }
            if let value = try api.int("concurrency") { job.api.concurrency = value }
            if let value = try api.duration("timeout") { job.api.timeout = value }
            if let value = try api.duration("server_timeout") { job.api.serverTimeout = value }
            if let value = try api.int("max_attempts") { job.api.maxAttempts = value }
            if let value = try api.choice("unknown_outcome", UnknownOutcome.self) { job.api.unknownOutcome = value }
            if let text = try api.string("proxy") {
                do {
                    job.api.proxy = try ProxySetting(parsing: text)
                } catch {
                    throw api.fail("proxy", error.description)
                }
            }
            job.api.caFile = try api.string("ca_file")
            if let (node, _) = api.node("simulator") {
                var settings = SimulatorSettings()
                if case .mapping = node {
                    let simulator = try YAMLMapping(node, file: file, prefix: "api.simulator", allowed: simulatorKeys)
                    settings.profiles = try simulator.strings("profiles") ?? []
                    if let text = try simulator.string("rate_limit") {
                        guard let rate = RateLimit(parsing: text), !rate.isAuto else {
                            throw simulator.fail("rate_limit", "'\(text)' is not a rate like 600/min")
                        }
                        settings.rateLimitPerMinute = Int((rate.requestsPerSecond * 60).rounded())
                    }
                    if let value = try simulator.int("latency_ms") { settings.latencyMilliseconds = value }
                    if let value = try simulator.int("window_seconds") { settings.windowSeconds = value }
                    if let value = try simulator.probability("fail_rate") { settings.failRate = value }
                    if let value = try simulator.probability("reset_before_commit") {
                        settings.resetBeforeCommitRate = value
                    }
                    if let value = try simulator.probability("reset_after_commit") {
                        settings.resetAfterCommitRate = value
                    }
                    if let value = try simulator.probability("slow_rate") { settings.slowRate = value }
                    if let value = try simulator.int("slow_ms") { settings.slowMilliseconds = value }
                    if let value = try simulator.int("seed") { settings.seed = UInt64(truncatingIfNeeded: value) }
                    if let value = try simulator.bool("idempotency") { settings.idempotency = value }
                    if let value = try simulator.bool("lookup") { settings.lookupFilter = value }
                    if let value = try simulator.bool("lookup_endpoint") { settings.lookupEndpoint = value }
                }
                job.api.simulator = settings
            }
        }
        if let value = try top.string("ledger") { job.ledgerPath = value }
        if let value = try top.string("ledger_password_file") { job.ledgerPasswordFile = value }
        if let output = try top.mapping("output", allowed: outputKeys) {
            if let value = try output.string("file") { job.outputPath = value }
            if let value = try output.choice("format", OutputFormat.self) { job.outputFormat = value }
            if let value = try output.choice("include", IncludeMode.self) { job.include = value }
            if let names = try output.strings("columns") {
                guard !names.isEmpty, Set(names).count == names.count else {
                    throw output.fail("columns", "list each column once, at least one")
                }
                job.outputColumns = names.map(OutputColumn.init(name:))
            }
            if let csv = try output.mapping("csv", allowed: outputCSVKeys),
                let escape = try csv.bool("escape_formulas")
            {
                job.escapeFormulas = escape
            }
        }
        if let value = try top.string("rejects") { job.rejectsPath = value }
        if let policy = try top.mapping("policy", allowed: policyKeys) {
            if let value = try policy.bool("reissue_expired") { job.policy.reissueExpired = value }
            if let value = try policy.bool("reissue_declined") { job.policy.reissueDeclined = value }
            if let value = try policy.duration("reissue_margin") { job.policy.reissueMargin = value }
            if let value = try policy.choice("retry_failed", RetryFailed.self) { job.policy.retryFailed = value }
        }
        if let retention = try top.mapping("retention", allowed: retentionKeys) {
            if let value = try retention.period("runs") { job.retention.runs = value }
            if let value = try retention.period("personal_data") { job.retention.personalData = value }
        }
    }

    static func check(_ job: JobConfiguration, file: String) throws(JobError) {
        func invalid(_ key: String, _ message: String) -> JobError {
            .invalidValue(path: file, line: nil, key: key, message: message)
        }
        if job.inputs.isEmpty { throw invalid("input.files", "no input files: name them in the job or with --input") }
        if job.name.isEmpty || job.name == "." || job.name == ".." || job.name.contains("/")
            || RowValidation.hasControlCharacter(job.name)
        {
            throw invalid(
                "name",
                "\(RowValidation.quoted(job.name)) is not a file name: no '/', no control characters, not . or ..")
        }
        if let problem = RowValidation.metadataProblem(job.template.metadata) {
            throw invalid("session.metadata", problem)
        }
        if UUID(uuidString: job.template.profileID) == nil {
            throw invalid(
                "session.profile_id",
                job.template.profileID.isEmpty
                    ? "missing: set it in the job or with --profile-id"
                    : "'\(job.template.profileID)' is not a UUID"
            )
        }
        if let redirect = job.template.redirectURL, let problem = RowValidation.redirectURLProblem(redirect) {
            throw invalid("session.redirect_url", problem)
        }
        if let expires = job.template.expiresIn, let problem = RowValidation.expiresInProblem(expires) {
            throw invalid("session.expires_in", problem)
        }
        if !(1...1024).contains(job.api.concurrency) {
            throw invalid("api.concurrency", "\(job.api.concurrency) is out of range 1...1024")
        }
        if !(1...100).contains(job.api.maxAttempts) {
            throw invalid("api.max_attempts", "\(job.api.maxAttempts) is out of range 1...100")
        }
        if !(job.api.rateShare > 0 && job.api.rateShare <= 1) {
            throw invalid("api.rate_share", "\(job.api.rateShare) must be above 0 and at most 1")
        }
        if job.api.timeout <= .zero { throw invalid("api.timeout", "must be above zero") }
        if job.api.serverTimeout < .zero { throw invalid("api.server_timeout", "must not be negative") }
        if let base = job.api.baseURL, job.api.simulator == nil {
            do {
                _ = try APISettings.validateBaseURL(base)
            } catch {
                throw invalid("api.base_url", error.description)
            }
        }
    }
}
