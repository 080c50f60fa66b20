import Foundation
import GRDB

/// ``LedgerSQL`` on an SQLite connection (GRDB), inside the caller's transaction; statements
/// are prepared once and cached by the connection.
struct SQLiteSQL: LedgerSQL {
    let db: Database
    let location: String

    var dialect: LedgerDialect { .sqlite }

    func rows(_ sql: String, _ arguments: [any LedgerValueConvertible]) throws -> [LedgerRow] {
        let statement = try db.cachedStatement(sql: sql)
        return try Row.fetchAll(statement, arguments: Self.arguments(arguments)).map { row in
            LedgerRow(row.databaseValues.map(Self.value))
        }
    }

    @discardableResult
    func execute(_ sql: String, _ arguments: [any LedgerValueConvertible]) throws -> Int {
        try db.cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
        return db.changesCount
    }

    func forEachRow(_ sql: String, _ arguments: [any LedgerValueConvertible], _ body: (LedgerRow) throws -> Void)
        throws
    {
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: Self.arguments(arguments))
        while let row = try cursor.next() { try body(LedgerRow(row.databaseValues.map(Self.value))) }
    }

    private static func arguments(_ values: [any LedgerValueConvertible]) -> StatementArguments {
        StatementArguments(
            values.map { value -> DatabaseValue in
                switch value.ledgerValue {
                case .null: .null
                case .integer(let number): number.databaseValue
                case .real(let number): number.databaseValue
                case .text(let text): text.databaseValue
                case .blob(let bytes): Data(bytes).databaseValue
                }
            })
    }

    private static func value(_ value: DatabaseValue) -> LedgerValue {
        switch value.storage {
        case .null: .null
        case .int64(let number): .integer(number)
        case .double(let number): .real(number)
        case .string(let text): .text(text)
        case .blob(let bytes): .blob(Array(bytes))
        }
    }
}
