import GRDB
import GRDBSQLite

/// The ledger's hot path (one lookup and one insert per input row, a million times on a nightly
/// rerun) binds and steps GRDB's cached statements through SQLite's C API: no argument arrays,
/// no row objects. Anything that is not per-row goes through GRDB as usual.
struct RawStatement {
    let statement: Statement
    private var handle: OpaquePointer { statement.sqliteStatement }

    /// SQLITE_TRANSIENT: SQLite copies bound text before the Swift string goes away.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Clears the previous bindings and resets the statement.
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds text (NULL for nil); throws when SQLite refuses it (too big, out of memory), so a
    /// statement never runs with a value missing.
    func bind(_ index: Int32, _ value: String?) throws {
        guard var text = value else {
            try check(sqlite3_bind_null(handle, index))
            return
        }
        guard text.utf8.count <= Int(Int32.max) else { throw DatabaseError(resultCode: .SQLITE_TOOBIG) }
        let code = text.withUTF8 { bytes in
            sqlite3_bind_text(
                handle, index, UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self),
                Int32(bytes.count), Self.transient)
        }
        try check(code)
    }

    func bind(_ index: Int32, _ value: Int64) throws {
        try check(sqlite3_bind_int64(handle, index, value))
    }

    private func check(_ code: Int32) throws {
        guard code == SQLITE_OK else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code),
                message: String(cString: sqlite3_errmsg(sqlite3_db_handle(handle))))
        }
    }

    /// Steps once: true when a row is available, false when done; throws on an error.
    func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code:
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code),
                message: String(cString: sqlite3_errmsg(sqlite3_db_handle(handle))))
        }
    }

    func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, column) else { return nil }
        return String(cString: pointer)
    }

    func int64(_ column: Int32) -> Int64? {
        sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, column)
    }
}
