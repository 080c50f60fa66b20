import Foundation

/// An input record as the ledger keeps it for output pass-through columns and the rejects
/// file: its columns and values, in order, as a JSON array of `[name, value]` pairs.
public enum InputRecordText {
    /// Encodes the columns and values.
    public static func encode(_ pairs: [(String, String)]) -> String? {
        guard !pairs.isEmpty else { return nil }
        let value = JSONValue.array(pairs.map { .array([.string($0.0), .string($0.1)]) })
        return String(decoding: value.canonicalBytes, as: UTF8.self)
    }

    /// The column names of an encoded record, in order.
    public static func names(_ text: String?) -> [String] {
        pairs(text).map(\.0)
    }

    /// The values of an encoded record by column name.
    public static func decode(_ text: String?) -> [String: String] {
        Dictionary(pairs(text), uniquingKeysWith: { first, _ in first })
    }

    static func pairs(_ text: String?) -> [(String, String)] {
        guard let text, case .array(let items)? = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        else { return [] }
        return items.compactMap { item in
            guard case .array(let pair) = item, pair.count == 2, case .string(let name) = pair[0],
                case .string(let value) = pair[1]
            else { return nil }
            return (name, value)
        }
    }
}
