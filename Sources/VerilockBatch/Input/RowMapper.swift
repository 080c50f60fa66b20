import Foundation

/// Why a row was refused before any request: the message names the field and the value.
public struct RowRejection: Error, Sendable, Equatable {
    /// The row's external_id, when it could be read.
    public var externalID: String?
    /// What is wrong, naming the field and the value.
    public var message: String
}

/// Where each session field comes from in an input record.
public struct ColumnMapping: Sendable, Equatable {
    /// Session field → input columns (several columns are joined with one space).
    public var sources: [SessionField: [String]]
    /// Fields the job maps explicitly: their columns must exist in every CSV header.
    public var explicit: Set<SessionField>
    /// Columns copied into metadata as strings.
    public var metadataColumns: [String]
    /// Input columns the output passes through (they must exist in every CSV header).
    public var passthrough: [String] = []

    /// The default mapping: every field from the column of the same name.
    public init(
        sources: [SessionField: [String]] = [:],
        metadataColumns: [String] = []
    ) {
        var all: [SessionField: [String]] = [:]
        for field in SessionField.allCases { all[field] = [field.rawValue] }
        all.merge(sources) { _, new in new }
        self.sources = all
        self.explicit = Set(sources.keys)
        self.metadataColumns = metadataColumns
    }
}

/// Turns raw records into validated ``ApplicantRow`` values, or a ``RowRejection`` saying why not.
///
/// Made once per input file: for CSV the header's column positions are resolved here, so the
/// per-row work is indexing, not lookups.
public struct RowMapper: Sendable {
    /// The header positions feeding each session field (nil: the field has no column), held as
    /// stored properties: the per-row path reads them without hashing.
    private struct FieldColumns: Sendable {
        var externalID: [Int]?
        var email: [Int]?
        var name: [Int]?
        var expiresIn: [Int]?
        var redirectURL: [Int]?
        var metadata: [Int]?

        subscript(field: SessionField) -> [Int]? {
            get {
                switch field {
                case .externalID: externalID
                case .applicantEmail: email
                case .applicantName: name
                case .expiresIn: expiresIn
                case .redirectURL: redirectURL
                case .metadata: metadata
                }
            }
            set {
                switch field {
                case .externalID: externalID = newValue
                case .applicantEmail: email = newValue
                case .applicantName: name = newValue
                case .expiresIn: expiresIn = newValue
                case .redirectURL: redirectURL = newValue
                case .metadata: metadata = newValue
                }
            }
        }
    }

    private enum Layout: Sendable {
        case csv(headerCount: Int, fields: FieldColumns, metadata: [(String, Int)])
        case ndjson
    }

    private let layout: Layout
    private let mapping: ColumnMapping
    private let header: [String]

    /// A mapper for a CSV file with `header`; throws when a mapped column is missing.
    public init(csvHeader header: [String], mapping: ColumnMapping, path: String) throws(InputError) {
        var positions: [String: Int] = [:]
        for (index, name) in header.enumerated() where positions[name] == nil { positions[name] = index }
        var fields = FieldColumns()
        for (field, columns) in mapping.sources {
            let found = columns.compactMap { positions[$0] }
            if found.count == columns.count {
                fields[field] = found
            } else if mapping.explicit.contains(field) || field == .externalID {
                let missing = columns.first { positions[$0] == nil } ?? field.rawValue
                throw .missingColumn(path: path, column: missing, field: field.rawValue, header: header)
            }
        }
        var metadata: [(String, Int)] = []
        for column in mapping.metadataColumns {
            guard let index = positions[column] else {
                throw .missingColumn(path: path, column: column, field: "metadata_columns", header: header)
            }
            metadata.append((column, index))
        }
        for column in mapping.passthrough where positions[column] == nil {
            throw .missingColumn(path: path, column: column, field: "output.columns", header: header)
        }
        self.header = header
        self.layout = .csv(headerCount: header.count, fields: fields, metadata: metadata)
        self.mapping = mapping
    }

    /// A mapper for NDJSON objects.
    public init(ndjsonMapping mapping: ColumnMapping) {
        self.layout = .ndjson
        self.mapping = mapping
        self.header = []
    }

    /// The record's columns and values as read (CSV: by header; NDJSON: members, strings as they
    /// are and other values as JSON), for the rejects file and pass-through columns.
    public func inputRecord(_ content: RawRecord.Content) -> [(String, String)] {
        switch content {
        case .cells(let cells): Array(zip(header, cells))
        case .object(let members):
            members.sorted { $0.key < $1.key }.map { key, value in
                if case .string(let text) = value { return (key, text) }
                return (key, String(decoding: value.canonicalBytes, as: UTF8.self))
            }
        case .malformed: []
        }
    }

    /// The header that names the values of this file's records as the ledger keeps them; nil
    /// for NDJSON, whose records keep their member names.
    public var recordLayout: [String]? {
        if case .csv = layout { header } else { nil }
    }

    /// The record as the ledger keeps it (``InputRecordText``): a CSV record's values (named by
    /// ``recordLayout``), an NDJSON record's members as pairs; nil for a malformed record.
    public func recordText(_ content: RawRecord.Content) -> String? {
        switch content {
        case .cells(let cells): InputRecordText.encode(values: Array(cells.prefix(header.count)))
        case .object: InputRecordText.encode(inputRecord(content))
        case .malformed: nil
        }
    }

    /// Maps and validates one record.
    public func map(_ content: RawRecord.Content) -> Result<ApplicantRow, RowRejection> {
        do {
            switch (content, layout) {
            case (.malformed(let reason), _):
                return .failure(RowRejection(externalID: nil, message: reason))
            case (.cells(let cells), .csv(let headerCount, let fields, let metadata)):
                guard cells.count == headerCount else {
                    return .failure(
                        RowRejection(
                            externalID: nil,
                            message: "the row has \(cells.count) cells but the header has \(headerCount)"
                        )
                    )
                }
                return .success(try mapCSV(cells, fields: fields, metadata: metadata))
            case (.object(let members), _):
                return .success(try mapObject(members))
            case (.cells, .ndjson):
                return .failure(RowRejection(externalID: nil, message: "a CSV record where NDJSON was expected"))
            }
        } catch {
            return .failure(error)
        }
    }

    // MARK: CSV

    private func mapCSV(
        _ cells: [String],
        fields: FieldColumns,
        metadata: [(String, Int)]
    ) throws(RowRejection) -> ApplicantRow {
        func text(_ field: SessionField) -> String? {
            guard let indices = fields[field] else { return nil }
            if indices.count == 1 {
                let value = cells[indices[0]].trimmingBlanks
                return value.isEmpty ? nil : value
            }
            let parts = indices.map { cells[$0].trimmingBlanks }.filter { !$0.isEmpty }
            return parts.isEmpty ? nil : parts.joined(separator: " ")
        }
        guard let externalID = text(.externalID) else {
            throw RowRejection(externalID: nil, message: "external_id is missing")
        }
        var row = ApplicantRow(externalID: externalID, email: text(.applicantEmail), name: text(.applicantName))
        row.redirectURL = text(.redirectURL)
        if let value = text(.expiresIn) {
            guard let seconds = Int(value) else {
                throw RowRejection(
                    externalID: externalID,
                    message: "expires_in \(RowValidation.quoted(value)) is not a whole number of seconds"
                )
            }
            row.expiresIn = seconds
        }
        if let value = text(.metadata) {
            guard let parsed = try? StrictJSONParser.parse(Array(value.utf8)),
                case .object(let members) = parsed
            else {
                throw RowRejection(
                    externalID: externalID,
                    message: "metadata \(RowValidation.quoted(value)) is not a JSON object"
                )
            }
            row.metadata = members
        }
        for (name, index) in metadata where !cells[index].isEmpty {
            row.metadata[name] = .string(cells[index])
        }
        return try validated(row)
    }

    // MARK: NDJSON

    private func mapObject(_ members: [String: JSONValue]) throws(RowRejection) -> ApplicantRow {
        func values(_ field: SessionField) -> [(String, JSONValue)] {
            (mapping.sources[field] ?? []).compactMap { column in
                guard let value = members[column], value != .null else { return nil }
                return (column, value)
            }
        }
        func string(_ field: SessionField, externalID: String?) throws(RowRejection) -> String? {
            var parts: [String] = []
            for (column, value) in values(field) {
                guard case .string(let text) = value else {
                    throw RowRejection(
                        externalID: externalID,
                        message: "\(column) must be a string, not a \(value.typeName)"
                    )
                }
                let trimmed = text.trimmingBlanks
                if !trimmed.isEmpty { parts.append(trimmed) }
            }
            return parts.isEmpty ? nil : parts.joined(separator: " ")
        }

        let idValues = values(.externalID)
        guard let (idColumn, idValue) = idValues.first else {
            throw RowRejection(externalID: nil, message: "external_id is missing")
        }
        let externalID: String
        switch idValue {
        case .string(let text): externalID = text.trimmingBlanks
        case .integer(let number): externalID = String(number)
        default:
            throw RowRejection(
                externalID: nil,
                message: "\(idColumn) must be a string or an integer, not a \(idValue.typeName)"
            )
        }
        var row = ApplicantRow(externalID: externalID)
        row.email = try string(.applicantEmail, externalID: externalID)
        row.name = try string(.applicantName, externalID: externalID)
        row.redirectURL = try string(.redirectURL, externalID: externalID)
        if let (column, value) = values(.expiresIn).first {
            guard case .integer(let seconds) = value else {
                throw RowRejection(
                    externalID: externalID, message: "\(column) must be an integer, not a \(value.typeName)")
            }
            row.expiresIn = Int(clamping: seconds)
        }
        if let (column, value) = values(.metadata).first {
            guard case .object(let object) = value else {
                throw RowRejection(
                    externalID: externalID, message: "\(column) must be an object, not a \(value.typeName)")
            }
            row.metadata = object
        }
        for column in mapping.metadataColumns {
            switch members[column] {
            case nil, .null: continue
            case .string(let text): row.metadata[column] = .string(text)
            case .some(let value): row.metadata[column] = .string(String(decoding: value.canonicalBytes, as: UTF8.self))
            }
        }
        return try validated(row)
    }

    // MARK: Rules

    private func validated(_ row: ApplicantRow) throws(RowRejection) -> ApplicantRow {
        let problem =
            RowValidation.externalIDProblem(row.externalID)
            ?? row.email.flatMap { RowValidation.textProblem("applicant_email", $0) ?? RowValidation.emailProblem($0) }
            ?? row.name.flatMap { RowValidation.textProblem("applicant_name", $0) }
            ?? row.expiresIn.flatMap(RowValidation.expiresInProblem)
            ?? row.redirectURL.flatMap(RowValidation.redirectURLProblem)
            ?? (row.metadata.isEmpty
                ? nil
                : RowValidation.metadataProblem(row.metadata)
                    ?? RowValidation.metadataTextProblem(.object(row.metadata)))
        if let problem {
            let id = RowValidation.externalIDProblem(row.externalID) == nil ? row.externalID : nil
            throw RowRejection(externalID: id, message: problem)
        }
        return row
    }
}
