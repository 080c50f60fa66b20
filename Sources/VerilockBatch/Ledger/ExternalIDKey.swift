/// An external_id compared and hashed by its UTF-8 bytes, as SQLite compares it: two ids that
/// Swift's `String` holds equal because they are canonically equivalent (`é` composed, or `e`
/// and a combining accent) are two applicants to the ledger, and stay two here.
public struct ExternalIDKey: Hashable, Sendable {
    public let text: String

    public init(_ text: String) {
        self.text = text
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.text.utf8.elementsEqual(rhs.text.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        Self.combine(text, into: &hasher)
    }

    /// Feeds `text`'s UTF-8 bytes to `hasher`.
    static func combine(_ text: String, into hasher: inout Hasher) {
        let done: Void? = text.utf8.withContiguousStorageIfAvailable {
            hasher.combine(bytes: UnsafeRawBufferPointer($0))
        }
        if done == nil {
            for byte in text.utf8 { hasher.combine(byte) }
        }
        hasher.combine(0xFF as UInt8)
    }
}

extension ExternalIDKey: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) {
        self.init(value)
    }
}
