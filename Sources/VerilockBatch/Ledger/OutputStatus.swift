/// The `status` column of the mail-merge file: how the row's link came to be.
public enum OutputStatus: String, Sendable {
    /// A session this run (or the run that carried it over) created.
    case created
    /// A session made earlier; this run sent nothing for the row.
    case existing
    /// A new session for an applicant whose earlier link expired.
    case reissued
    /// A session made earlier that the applicant completed (as `sync` last heard); this run
    /// sent nothing for the row.
    case completed
}
