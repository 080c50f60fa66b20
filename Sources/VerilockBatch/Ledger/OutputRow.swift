/// One line of the mail-merge file.
public struct OutputRow: Sendable, Equatable {
    /// The row's place in its run's input order (-1 outside a run).
    public var seq: Int64 = -1
    public var fileIndex: Int
    public var line: Int
    public var externalID: String
    public var email: String?
    public var name: String?
    public var sessionID: String
    public var sessionURL: String
    public var expiresAt: String?
    /// How the row's link came to be.
    public var status: OutputStatus
    /// What `sync` last heard of the session: its status, decision and completion (exports).
    public var sessionStatus: String?
    public var decision: String?
    public var completedAt: String?
    /// The input record, when kept (``InputRecordText``).
    public var record: String?
    /// The header naming the record's values, when it holds values only.
    public var layout: [String]?
    /// Whether this run is the first to write the row's link (`include: new` writes only these):
    /// all but plain `existing` rows; a session settled with changed data is `existing` in
    /// status but new to the mail-merge.
    public var isNew = true

    /// The row of input row `seq` (file `fileIndex`, line `line`) that already had `session`:
    /// status `existing`, not new to the mail-merge.
    static func existing(
        seq: Int64, fileIndex: Int, line: Int, externalID: String, email: String?, name: String?,
        session: ApplicantEntry.Session, record: String?, layout: [String]?
    ) -> OutputRow {
        var row = OutputRow(
            fileIndex: fileIndex, line: line, externalID: externalID, email: email, name: name,
            sessionID: session.id, sessionURL: session.url, expiresAt: session.expiresAt,
            status: session.completed ? .completed : .existing,
            record: record)
        row.seq = seq
        row.layout = layout
        row.isNew = false
        return row
    }
}
