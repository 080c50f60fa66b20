import Foundation

/// An input record as the ledger keeps it for output pass-through columns and the rejects
/// file. A CSV record is kept as a JSON array of its values, its header once per file (the
/// file's layout); an NDJSON record, whose members vary, as a JSON array of `[name, value]`
/// pairs. Ledgers from before version 5 hold pairs for CSV records too.
public enum InputRecordText {
    /// Encodes the columns and values as pairs.
    public static func encode(_ pairs: [(String, String)]) -> String? {
        guard !pairs.isEmpty else { return nil }
        let value = JSONValue.array(pairs.map { .array([.string($0.0), .string($0.1)]) })
        return String(decoding: value.canonicalBytes, as: UTF8.self)
    }

    /// Encodes values alone (a CSV record, or a header).
    public static func encode(values: [String]) -> String? {
        guard !values.isEmpty else { return nil }
        return String(decoding: JSONValue.array(values.map(JSONValue.string)).canonicalBytes, as: UTF8.self)
    }

    /// The column names of an encoded record, in order; `layout` names the values of a record
    /// kept as values.
    public static func names(_ text: String?, layout: [String]? = nil) -> [String] {
        pairs(text, layout: layout).map(\.0)
    }

    /// The values of an encoded record by column name.
    public static func decode(_ text: String?, layout: [String]? = nil) -> [String: String] {
        Dictionary(pairs(text, layout: layout), uniquingKeysWith: { first, _ in first })
    }

    /// The values of an encoded header or record kept as values.
    public static func values(_ text: String?) -> [String]? {
        guard let text, case .array(let items)? = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        else { return nil }
        return items.compactMap { if case .string(let value) = $0 { value } else { nil } }
    }

    static func pairs(_ text: String?, layout: [String]?) -> [(String, String)] {
        guard let text, case .array(let items)? = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        else { return [] }
        if let layout, items.allSatisfy({ if case .string = $0 { true } else { false } }) {
            return zip(layout, items).compactMap { name, item in
                if case .string(let value) = item { (name, value) } else { nil }
            }
        }
        return items.compactMap { item in
            guard case .array(let pair) = item, pair.count == 2, case .string(let name) = pair[0],
                case .string(let value) = pair[1]
            else { return nil }
            return (name, value)
        }
    }
}
