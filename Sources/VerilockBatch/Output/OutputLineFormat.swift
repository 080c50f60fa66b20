/// How one row of the output (mail-merge) file is written: its format, its columns, formula
/// neutralisation, and the input paths the `file` column names by file index.
///
/// Both the run's spooled existing rows (``OutputSpool``, formatted while the input is read) and
/// the rows the ledger holds are written with it, so the two kinds of line cannot differ.
public struct OutputLineFormat: Sendable {
    public let format: OutputFormat
    public let columns: [OutputColumn]
    public let escapeFormulas: Bool
    /// The input paths, by file index.
    public let inputPaths: [String]
    private let hasInputColumns: Bool

    /// A format writing `columns` as `format`.
    public init(format: OutputFormat, columns: [OutputColumn], escapeFormulas: Bool, inputPaths: [String]) {
        self.format = format
        self.columns = columns
        self.escapeFormulas = escapeFormulas
        self.inputPaths = inputPaths
        self.hasInputColumns = columns.contains { if case .input = $0 { true } else { false } }
    }

    /// The format `job` sets (`output.format`, `output.columns`, `output.escape_formulas`).
    public init(job: JobConfiguration, inputPaths: [String]) {
        self.init(
            format: job.outputFormat, columns: job.outputColumns, escapeFormulas: job.escapeFormulas,
            inputPaths: inputPaths)
    }

    /// The file's first line (the CSV header), if the format has one.
    public var header: [UInt8]? {
        guard format == .csv else { return nil }
        var line: [UInt8] = []
        CSVFormat.appendRecord(columns.map(\.name), escapeFormulas: false, to: &line)
        return line
    }

    /// Appends `row` as one line, line end included.
    public func append(_ row: OutputRow, to line: inout [UInt8]) {
        let passed = hasInputColumns ? InputRecordText.decode(row.record, layout: row.layout) : [:]
        func value(_ column: OutputColumn) -> String? {
            switch column {
            case .field(.externalID): row.externalID
            case .field(.applicantEmail): row.email
            case .field(.applicantName): row.name
            case .field(.sessionID): row.sessionID
            case .field(.sessionURL): row.sessionURL
            case .field(.expiresAt): row.expiresAt
            case .field(.status): row.status.rawValue
            case .field(.file):
                row.fileIndex < 0 ? nil : inputPaths.indices.contains(row.fileIndex) ? inputPaths[row.fileIndex] : "?"
            case .field(.line): row.line > 0 ? String(row.line) : nil
            case .field(.sessionStatus): row.sessionStatus
            case .field(.decision): row.decision
            case .field(.completedAt): row.completedAt
            case .input(let name): passed[name]
            }
        }
        switch format {
        case .csv:
            for (index, column) in columns.enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                CSVFormat.appendField(value(column) ?? "", escapeFormulas: escapeFormulas, to: &line)
            }
        case .ndjson:
            var members: [(key: String, value: JSONValue)] = []
            for column in columns {
                members.append((column.name, value(column).map(JSONValue.string) ?? .null))
            }
            JSONValue.appendObject(members, to: &line)
        }
        line.append(UInt8(ascii: "\n"))
    }
}
