import Foundation
import PostgresNIO

extension PostgresLedger.Session: LedgerSQL {
    var dialect: LedgerDialect { .postgres }

    func rows(_ sql: String, _ arguments: [any LedgerValueConvertible]) throws -> [LedgerRow] {
        let answer = try rows(Self.query(sql, arguments))
        do {
            return try answer.map { row in LedgerRow(try row.map(Self.value)) }
        } catch {
            throw LedgerError.database(path: location, reason: "an answer could not be read: \(error)")
        }
    }

    @discardableResult
    func execute(_ sql: String, _ arguments: [any LedgerValueConvertible]) throws -> Int {
        do {
            let result = try wait(connection.query(Self.query(sql, arguments), logger: logger))
            return result.metadata.rows ?? 0
        } catch let error as LedgerError {
            throw error
        } catch {
            throw PostgresLedger.ledgerError(error, location: location)
        }
    }

    /// Reads the answer through a cursor, a thousand rows at a time; inside the caller's
    /// transaction, as a cursor must be.
    func forEachRow(_ sql: String, _ arguments: [any LedgerValueConvertible], _ body: (LedgerRow) throws -> Void)
        throws
    {
        let query = Self.query(sql, arguments)
        try rows(PostgresQuery(unsafeSQL: "DECLARE ledger_rows NO SCROLL CURSOR FOR " + query.sql, binds: query.binds))
        defer { _ = try? rows("CLOSE ledger_rows") }
        while true {
            let batch = try rows("FETCH FORWARD 1000 FROM ledger_rows", [])
            if batch.isEmpty { break }
            for row in batch { try body(row) }
        }
    }

    /// `sql` with its `?` placeholders numbered as PostgreSQL wants them (`$1`, `$2`, ...; none
    /// is inside a quoted literal), and `arguments` bound to them.
    static func query(_ sql: String, _ arguments: [any LedgerValueConvertible]) -> PostgresQuery {
        var text = ""
        text.reserveCapacity(sql.utf8.count + 8)
        var number = 0
        var quoted = false
        for character in sql {
            if character == "'" { quoted.toggle() }
            if character == "?" && !quoted {
                number += 1
                text += "$\(number)"
            } else {
                text.append(character)
            }
        }
        var binds = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument.ledgerValue {
            case .null: binds.appendNull()
            case .integer(let value): binds.append(value)
            case .real(let value): binds.append(value)
            case .text(let value): binds.append(value)
            case .blob(let value): binds.append(ByteBuffer(bytes: value))
            }
        }
        return PostgresQuery(unsafeSQL: text, binds: binds)
    }

    /// A cell as a ``LedgerValue``: integers (and booleans, as 0 and 1), reals, text, bytes.
    private static func value(_ cell: PostgresCell) throws -> LedgerValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea: return .blob(Array(try cell.decode(ByteBuffer.self).readableBytesView))
        case .numeric:
            let number = try cell.decode(Decimal.self)
            var rounded = number
            var copy = number
            NSDecimalRound(&rounded, &copy, 0, .plain)
            return rounded == number
                ? .integer(NSDecimalNumber(decimal: number).int64Value)
                : .real(NSDecimalNumber(decimal: number).doubleValue)
        default: return .text(try cell.decode(String.self))
        }
    }
}
