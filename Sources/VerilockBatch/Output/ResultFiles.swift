/// Writes a run's output (mail-merge) and rejects files from the ledger, atomically.
///
/// Both are made from the ledger's rows for the run, so a run and a later `export` write the
/// same files; together they hold every row the run read, each exactly once.
public struct ResultFiles {
    /// Which rows the files hold.
    public enum Scope: Sendable, Equatable {
        /// The rows one run read, in its input order.
        case run(Int64)
        /// Every applicant with a session, whatever run made it (`export --all`).
        case allSessions
    }

    let ledger: Ledger
    let scope: Scope
    let inputPaths: [String]
    let spool: OutputSpool?

    /// Writer for the files of `scope`, naming inputs by `inputPaths` (by file index); a run's
    /// existing rows come from `spool`.
    public init(ledger: Ledger, scope: Scope, inputPaths: [String], spool: OutputSpool? = nil) {
        self.ledger = ledger
        self.scope = scope
        self.inputPaths = inputPaths
        self.spool = spool
    }

    private func file(_ index: Int) -> String { inputPaths.indices.contains(index) ? inputPaths[index] : "?" }

    /// Writes the output file; returns how many rows it holds.
    @discardableResult
    public func writeOutput(
        to path: String,
        format: OutputFormat,
        columns: [OutputColumn],
        include: IncludeMode,
        escapeFormulas: Bool
    ) throws -> Int {
        let writer = try AtomicFileWriter(path: path)
        var line: [UInt8] = []
        let hasInputColumns = columns.contains { if case .input = $0 { true } else { false } }
        if format == .csv {
            CSVFormat.appendRecord(columns.map(\.name), escapeFormulas: false, to: &line)
            try writer.write(line)
        }
        var count = 0
        let rows: ((OutputRow) throws -> Void) throws -> Void =
            switch scope {
            case .run(let runID):
                { try ledger.forEachOutputRow(runID: runID, spool: include == .new ? nil : spool, $0) }
            case .allSessions: { try ledger.forEachSession($0) }
            }
        try rows { row in
            if include == .new && !row.isNew { return }
            let passed = hasInputColumns ? InputRecordText.decode(row.record, layout: row.layout) : [:]
            func value(_ column: OutputColumn) -> String? {
                switch column {
                case .field(.externalID): row.externalID
                case .field(.applicantEmail): row.email
                case .field(.applicantName): row.name
                case .field(.sessionID): row.sessionID
                case .field(.sessionURL): row.sessionURL
                case .field(.expiresAt): row.expiresAt
                case .field(.status): row.status
                case .field(.file): row.fileIndex >= 0 ? file(row.fileIndex) : nil
                case .field(.line): row.line > 0 ? String(row.line) : nil
                case .input(let name): passed[name]
                }
            }
            line.removeAll(keepingCapacity: true)
            switch format {
            case .csv:
                for (index, column) in columns.enumerated() {
                    if index > 0 { line.append(UInt8(ascii: ",")) }
                    CSVFormat.appendField(value(column) ?? "", escapeFormulas: escapeFormulas, to: &line)
                }
                line.append(UInt8(ascii: "\n"))
            case .ndjson:
                var members: [(key: String, value: JSONValue)] = []
                for column in columns {
                    members.append((column.name, value(column).map(JSONValue.string) ?? .null))
                }
                JSONValue.appendObject(members, to: &line)
                line.append(UInt8(ascii: "\n"))
            }
            try writer.write(line)
            count += 1
        }
        try writer.commit()
        return count
    }

    /// Writes the rejects file of a run: `file, line, external_id, reason, error`, then the rows'
    /// own input columns, so a fixed rejects file can be fed back in. Returns its row count.
    @discardableResult
    public func writeRejects(to path: String, escapeFormulas: Bool) throws -> Int {
        guard case .run(let runID) = scope else { return 0 }
        let fixed = ["file", "line", "external_id", "reason", "error"]
        // First pass: the input columns of the rejected rows, in the order first seen.
        var inputColumns: [String] = []
        var seen = Set(fixed)
        try ledger.forEachReject(runID: runID) { row in
            for name in InputRecordText.names(row.record, layout: row.layout) where seen.insert(name).inserted {
                inputColumns.append(name)
            }
        }
        let writer = try AtomicFileWriter(path: path)
        var line: [UInt8] = []
        CSVFormat.appendRecord(fixed + inputColumns, escapeFormulas: false, to: &line)
        try writer.write(line)
        var count = 0
        try ledger.forEachReject(runID: runID) { row in
            line.removeAll(keepingCapacity: true)
            let record = InputRecordText.decode(row.record, layout: row.layout)
            CSVFormat.appendRecord(
                [file(row.fileIndex), String(row.line), row.externalID ?? "", row.reason, row.message]
                    + inputColumns.map { record[$0] ?? "" },
                escapeFormulas: escapeFormulas,
                to: &line
            )
            try writer.write(line)
            count += 1
        }
        try writer.commit()
        return count
    }
}
