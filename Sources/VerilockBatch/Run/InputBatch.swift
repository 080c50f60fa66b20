/// Rows of one input file, read and validated, on their way to planning.
struct InputBatch: Sendable {
    /// One row: where it is, and what validation made of it.
    struct Row: Sendable {
        var seq: Int64
        var line: Int
        var mapped: Result<ApplicantRow, RowRejection>
        var content: RawRecord.Content
        /// The external_id of a row that passed validation.
        var externalID: String?
        /// Where the row's external_id first occurred in the run, when earlier.
        var firstSeen: RowPlace?
    }

    /// What an input file held, sent with its last batch.
    struct FileEnd: Sendable {
        /// The file's SHA-256 as it was read (nil for standard input).
        var sha256: String?
        /// Rows of this shard.
        var rows: Int
    }

    var fileIndex: Int
    var mapper: RowMapper
    var rows: [Row] = []
    /// Whether this is the file's first batch (its layout is recorded with it).
    var startsFile = false
    var fileEnd: FileEnd?
    /// Bytes read so far, over every file.
    var bytesRead: Int64 = 0
    /// Rows skipped so far because they belong to other shards.
    var otherShards = 0
}
