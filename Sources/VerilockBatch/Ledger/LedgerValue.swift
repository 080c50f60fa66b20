import Foundation

/// A value bound to, or read from, a ledger statement, whichever database holds the ledger:
/// the SQLite storage classes, which PostgreSQL's column types map onto (booleans are stored
/// as the integers 0 and 1 in both).
public enum LedgerValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A Swift value that binds to a ledger statement's `?`.
public protocol LedgerValueConvertible {
    var ledgerValue: LedgerValue { get }
}

extension LedgerValue: LedgerValueConvertible {
    public var ledgerValue: LedgerValue { self }
}

extension Int: LedgerValueConvertible {
    public var ledgerValue: LedgerValue { .integer(Int64(self)) }
}

extension Int64: LedgerValueConvertible {
    public var ledgerValue: LedgerValue { .integer(self) }
}

extension Int32: LedgerValueConvertible {
    public var ledgerValue: LedgerValue { .integer(Int64(self)) }
}

extension Double: LedgerValueConvertible {
    public var ledgerValue: LedgerValue { .real(self) }
}

extension Bool: LedgerValueConvertible {
    public var ledgerValue: LedgerValue { .integer(self ? 1 : 0) }
}

extension String: LedgerValueConvertible {
    public var ledgerValue: LedgerValue { .text(self) }
}

extension Data: LedgerValueConvertible {
    public var ledgerValue: LedgerValue { .blob(Array(self)) }
}

extension Optional: LedgerValueConvertible where Wrapped: LedgerValueConvertible {
    public var ledgerValue: LedgerValue { self?.ledgerValue ?? .null }
}
