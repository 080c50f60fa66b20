/// Writes a run's output (mail-merge) and rejects files from the ledger, atomically.
///
/// Both are made from the ledger's rows for the run, so a run and a later `export` write the
/// same files; together they hold every row the run read, each exactly once. Used inside
/// ``Ledger/reading(_:)``, on the ledger's own thread.
public struct ResultFiles {
    /// Which rows the files hold.
    public enum Scope: Sendable, Equatable {
        /// The rows one run read, in its input order.
        case run(Int64)
        /// The applicants with a session that the selection takes, whatever run made them
        /// (`export --all`, `export --status`).
        case sessions(SessionSelection)
    }

    let ledger: any LedgerReading
    let scope: Scope
    /// The input paths, by file index.
    let inputPaths: [String]
    let spool: OutputSpool?

    /// Writer for the files of `scope`, naming inputs by `inputPaths` (by file index); a run's
    /// existing rows come from `spool`.
    public init(ledger: any LedgerReading, scope: Scope, inputPaths: [String], spool: OutputSpool? = nil) {
        self.ledger = ledger
        self.scope = scope
        self.inputPaths = inputPaths
        self.spool = spool
    }

    private func file(_ index: Int) -> String { inputPaths.indices.contains(index) ? inputPaths[index] : "?" }

    /// Writes the output file with lines as `lines` makes them; returns how many rows it holds.
    /// A run's rows come from the ledger, merged in input order with the lines of its spool
    /// (which `lines` should have made too); `include: new` leaves out the spool and every row
    /// that is not new.
    @discardableResult
    public func writeOutput(to path: String, lines: OutputLineFormat, include: IncludeMode) throws -> Int {
        let writer = try AtomicFileWriter(path: path)
        var line: [UInt8] = []
        if let header = lines.header { try writer.write(header) }
        var count = 0
        var spooled = try (include == .new ? nil : spool)?.reader()
        try spooled?.start()
        /// Writes the spool's lines that come before `seq` in the input order.
        func writeSpooled(before seq: Int64) throws {
            line.removeAll(keepingCapacity: true)
            while let next = spooled?.nextSeq, next < seq {
                try spooled?.appendLine(to: &line)
                count += 1
                if line.count >= 1 << 16 {
                    try writer.write(line)
                    line.removeAll(keepingCapacity: true)
                }
            }
            if !line.isEmpty { try writer.write(line) }
        }
        let rows: ((OutputRow) throws -> Void) throws -> Void =
            switch scope {
            case .run(let runID): { try ledger.forEachOutputRow(runID: runID, $0) }
            case .sessions(let selection): { try ledger.forEachSession(selection, $0) }
            }
        try rows { row in
            if include == .new && !row.isNew { return }
            try writeSpooled(before: row.seq)
            line.removeAll(keepingCapacity: true)
            lines.append(row, to: &line)
            try writer.write(line)
            count += 1
        }
        try writeSpooled(before: .max)
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
                [file(row.fileIndex), String(row.line), row.externalID ?? "", row.reason.rawValue, row.message]
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
