import Foundation

/// A problem with an input file as a whole: the run stops before anything is sent.
public enum InputError: Error, Sendable, Equatable {
    /// The file does not exist.
    case missing(path: String)
    /// The file exists but cannot be opened or read.
    case unreadable(path: String, reason: String)
    /// The file is not of its format (no header, not text).
    case malformed(path: String, line: Int, reason: String)
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
        case .missingColumn(let path, let column, let field, let header):
            "\(path):1: column '\(column)' (mapped to \(field)) is not in the header "
                + "[\(header.joined(separator: ", "))]: fix input.columns in the job or the file"
        }
    }

    public var errorDescription: String? { description }
}
