import Foundation

/// A problem with an input file as a whole: the run stops before anything is sent.
public enum InputError: Error, Sendable, Equatable {
    /// The file does not exist.
    case missing(path: String)
    /// The file exists but cannot be opened or read.
    case unreadable(path: String, reason: String)
    /// The file is not of its format (no header, not text).
    case malformed(path: String, line: Int, reason: String)
    /// The file is not in the encoding `input.encoding` names: `byte`, on `line` (nil when the
    /// input cannot be read again to count), does not fit; the file looks like `likely`.
    case wrongEncoding(path: String, line: Int?, byte: UInt8, likely: InputEncoding)
    /// A UTF-16 file holds an unpaired surrogate, or ends in half a code unit, at byte `offset`.
    case invalidUTF16(path: String, offset: Int64)
    /// The file should be gzip (`reason` says why) but does not start as gzip does.
    case notCompressed(path: String, reason: String)
    /// The file's gzip data is damaged at compressed byte `offset`.
    case corruptCompressed(path: String, offset: Int64, reason: String)
    /// The file's gzip data stops before its end: the file was cut short.
    case truncatedCompressed(path: String)
    /// A column the job maps is not in the file's header.
    case missingColumn(path: String, column: String, field: String, header: [String])
}

extension InputError: LocalizedError, CustomStringConvertible {
    public var description: String {
        switch self {
        case .missing(let path):
            "input file \(path) does not exist: check the path or the glob in input.files"
        case .unreadable(let path, let reason):
            "cannot read input file \(path): \(reason)"
        case .malformed(let path, let line, let reason):
            "\(path):\(line): \(reason)"
        case .wrongEncoding(let path, let line, let byte, let likely):
            Self.wrongEncoding(path: path, line: line, byte: byte, likely: likely)
        case .invalidUTF16(let path, let offset):
            "\(path): the file is not valid UTF-16: at byte \(offset) a character is cut or half of a surrogate "
                + "pair stands alone; save it again as UTF-8 or UTF-16; nothing was sent"
        case .notCompressed(let path, let reason):
            "\(path): the file is not gzip-compressed, but \(reason): rename it, or set input.compression: none "
                + "(auto decides by name and content); nothing was sent"
        case .corruptCompressed(let path, let offset, let reason):
            "\(path): the gzip data is damaged at compressed byte \(offset) (\(reason)); check it with "
                + "'gzip -t' and fetch the export again; nothing was sent"
        case .truncatedCompressed(let path):
            "\(path): the gzip data ends before its end mark: the file was cut short (an interrupted download or "
                + "copy?); check it with 'gzip -t' and fetch the export again; nothing was sent"
        case .missingColumn(let path, let column, let field, let header):
            "\(path):1: column '\(column)' (mapped to \(field)) is not in the header "
                + "[\(header.joined(separator: ", "))]: fix input.columns in the job or the file"
        }
    }

    public var errorDescription: String? { description }

    private static func wrongEncoding(path: String, line: Int?, byte: UInt8, likely: InputEncoding) -> String {
        let place = line.map { "\(path):\($0)" } ?? path
        let settings = InputEncoding.allCases.map(\.rawValue).joined(separator: ", ")
        let problem =
            likely == .utf16
            ? "the file is not UTF-8: it is full of NUL bytes, as UTF-16 text without a byte-order mark is"
            : "the file is not UTF-8: byte 0x\(String(byte, radix: 16, uppercase: true)) cannot be part of a "
                + "UTF-8 character there; it looks like \(likely.rawValue)"
        return "\(place): \(problem). Set input.encoding: \(likely.rawValue) in the job if that is its "
            + "encoding (one of \(settings)), or save the file as UTF-8; nothing was sent"
    }
}
