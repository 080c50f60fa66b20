/// How input files are compressed (`input.compression`, `--compression`).
public enum InputCompression: String, Sendable, CaseIterable {
    /// gzip when the file's name ends in `.gz` or its first bytes are gzip's magic number
    /// (standard input too); plain otherwise. A `.gz` name on a file without the magic number is
    /// refused.
    case auto
    /// Plain text, whatever the name says (`none` in the job and on the command line; not
    /// called `none` here, which `Optional` has). A file that starts as gzip does is refused:
    /// no text starts that way.
    case plain = "none"
    /// gzip: a file that does not start with gzip's magic number is refused.
    case gzip

    /// The two bytes every gzip member starts with.
    static let gzipMagic: [UInt8] = [0x1F, 0x8B]

    /// Whether `path` is named as a gzip file.
    static func isGzipName(_ path: String) -> Bool {
        path.lowercased().hasSuffix(".gz")
    }
}
