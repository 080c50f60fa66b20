import Foundation

/// A problem with the job (file or flags): nothing is read or sent. Exit 78 (64 for flags).
public enum JobError: Error, Sendable, Equatable {
    /// The job file cannot be read or is not YAML.
    case unreadable(path: String, reason: String)
    /// A key the job file format does not know.
    case unknownKey(path: String, line: Int, key: String, allowed: [String])
    /// A value of the wrong type or out of range.
    case invalidValue(path: String, line: Int?, key: String, message: String)
    /// An API key was written into the job file.
    case secretInJob(path: String, line: Int)
    /// A flag's value is wrong.
    case invalidFlag(flag: String, message: String)
    /// Two files of a run are one (an output over an input, the ledger, or another output).
    case pathCollision(String, String)
}

extension JobError: LocalizedError, CustomStringConvertible {
    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read job file \(path): \(reason)"
        case .unknownKey(let path, let line, let key, let allowed):
            return "\(path):\(line): unknown key '\(key)'; allowed here: \(allowed.joined(separator: ", "))"
        case .invalidValue(let path, let line, let key, let message):
            let place = line.map { "\(path):\($0)" } ?? path
            return "\(place): \(key): \(message)"
        case .secretInJob(let path, let line):
            return "\(path):\(line): an API key does not belong in a job file: remove it and set VERILOCK_API_KEY "
                + "(or api.key_env / api.key_file) instead"
        case .invalidFlag(let flag, let message):
            return "\(flag): \(message)"
        case .pathCollision(let first, let second):
            return "the \(first) is the same file as the \(second): nothing was sent; give each file a path of its own"
        }
    }

    public var errorDescription: String? { description }
}
