import Foundation
import Yams

/// A YAML mapping read strictly: unknown keys are errors naming the key, the file and the line,
/// and every getter checks the value's type.
struct YAMLMapping {
    let file: String
    let prefix: String
    private let entries: [(key: String, value: Node, line: Int)]

    init(_ node: Node, file: String, prefix: String, allowed: [String]) throws(JobError) {
        guard case .mapping(let mapping) = node else {
            throw .invalidValue(
                path: file, line: node.mark?.line, key: prefix.isEmpty ? "job" : prefix,
                message: "expected a mapping of keys to values")
        }
        self.file = file
        self.prefix = prefix
        var entries: [(String, Node, Int)] = []
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            let line = keyNode.mark?.line ?? 1
            if key == "api_key" || key == "key" && prefix == "api" { throw .secretInJob(path: file, line: line) }
            guard allowed.contains(key) else {
                throw .unknownKey(
                    path: file, line: line, key: prefix.isEmpty ? key : "\(prefix).\(key)", allowed: allowed)
            }
            entries.append((key, value, line))
        }
        self.entries = entries
    }

    func name(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix).\(key)" }

    func node(_ key: String) -> (Node, Int)? {
        entries.first { $0.key == key }.map { ($0.value, $0.line) }
    }

    func fail(_ key: String, _ message: String) -> JobError {
        .invalidValue(path: file, line: node(key)?.1, key: name(key), message: message)
    }

    func string(_ key: String) throws(JobError) -> String? {
        guard let (value, _) = node(key) else { return nil }
        guard case .scalar(let scalar) = value else { throw fail(key, "expected a single value") }
        return scalar.string
    }

    func int(_ key: String) throws(JobError) -> Int? {
        guard let text = try string(key) else { return nil }
        guard let value = Int(text) else { throw fail(key, "'\(text)' is not a whole number") }
        return value
    }

    func double(_ key: String) throws(JobError) -> Double? {
        guard let text = try string(key) else { return nil }
        guard let value = Double(text), value.isFinite else { throw fail(key, "'\(text)' is not a number") }
        return value
    }

    func probability(_ key: String) throws(JobError) -> Double? {
        guard let value = try double(key) else { return nil }
        guard (0...1).contains(value) else { throw fail(key, "\(value) is not a probability between 0 and 1") }
        return value
    }

    func bool(_ key: String) throws(JobError) -> Bool? {
        guard let text = try string(key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail(key, "'\(text)' is not true or false")
        }
    }

    func duration(_ key: String) throws(JobError) -> Duration? {
        guard let text = try string(key) else { return nil }
        guard let value = DurationText.parse(text) else {
            throw fail(key, "'\(text)' is not a duration (like 30s, 10m, 6h)")
        }
        return value
    }

    /// A retention period: a duration of at least a day, or `forever` (nil inside the result).
    func period(_ key: String) throws(JobError) -> Duration?? {
        guard let text = try string(key) else { return nil }
        if text.lowercased() == "forever" { return .some(nil) }
        guard let value = DurationText.parse(text), value >= .seconds(86_400) else {
            throw fail(key, "'\(text)' is not a period of at least a day (like 7d, 90d) or forever")
        }
        return .some(value)
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws(JobError) -> T?
    where T.RawValue == String {
        guard let text = try string(key) else { return nil }
        guard let value = T(rawValue: text) else {
            throw fail(key, "'\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// A string or a list of strings.
    func strings(_ key: String) throws(JobError) -> [String]? {
        guard let (value, _) = node(key) else { return nil }
        switch value {
        case .scalar(let scalar): return [scalar.string]
        case .sequence(let sequence):
            var result: [String] = []
            for item in sequence {
                guard case .scalar(let scalar) = item else { throw fail(key, "expected a list of strings") }
                result.append(scalar.string)
            }
            return result
        default: throw fail(key, "expected a string or a list of strings")
        }
    }

    func mapping(_ key: String, allowed: [String]) throws(JobError) -> YAMLMapping? {
        guard let (value, _) = node(key) else { return nil }
        return try YAMLMapping(value, file: file, prefix: name(key), allowed: allowed)
    }

    /// All entries, for free-form mappings (column maps, metadata).
    var all: [(key: String, value: Node, line: Int)] { entries }

    /// A YAML node as a JSON value (for metadata): scalars keep their YAML type.
    static func json(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style != .plain { return .string(scalar.string) }
            if node.null != nil { return .null }
            if let value = node.bool { return .bool(value) }
            if let value = Int64(scalar.string) { return .integer(value) }
            if let value = node.float { return .double(value) }
            return .string(scalar.string)
        case .sequence(let sequence): return .array(sequence.map(json))
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping { object[key.string ?? ""] = json(value) }
            return .object(object)
        case .alias: return .null
        }
    }
}
