/// One row a ledger statement returned, by column position, whichever database holds the
/// ledger. A getter returns nil for NULL and for a value of another kind.
public struct LedgerRow: Sendable, Equatable {
    public var values: [LedgerValue]

    public init(_ values: [LedgerValue]) {
        self.values = values
    }

    public func int64(_ column: Int) -> Int64? {
        if case .integer(let value) = values[column] { return value }
        return nil
    }

    public func int(_ column: Int) -> Int? {
        int64(column).map { Int($0) }
    }

    /// A number, integer or real.
    public func double(_ column: Int) -> Double? {
        switch values[column] {
        case .integer(let value): Double(value)
        case .real(let value): value
        default: nil
        }
    }

    /// An integer flag: anything but 0 (and NULL) is true.
    public func bool(_ column: Int) -> Bool {
        int64(column).map { $0 != 0 } ?? false
    }

    public func text(_ column: Int) -> String? {
        if case .text(let value) = values[column] { return value }
        return nil
    }

    public func blob(_ column: Int) -> [UInt8]? {
        if case .blob(let value) = values[column] { return value }
        return nil
    }
}
