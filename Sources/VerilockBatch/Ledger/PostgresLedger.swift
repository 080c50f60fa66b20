import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The ledger in a PostgreSQL database (``PostgresLedgerURL``), for jobs that run where no disk
/// outlives them, or on several hosts in turn or at once (shards).
///
/// One connection per ledger value, used by one operation at a time on a serial queue of its
/// own: each operation waits there for the server's answers, so no thread of Swift's
/// cooperative pool ever blocks on the database. The lock a run takes (``lock(job:shard:now:)``)
/// is a session-level advisory lock of that connection: a holder that crashes or loses its
/// connection releases it with the connection.
public final class PostgresLedger: @unchecked Sendable {
    public let url: PostgresLedgerURL
    private let connection: PostgresConnection
    private let logger: Logger
    private let queue = DispatchQueue(label: "verilock-batch postgres ledger")
    private let closeWatch: CloseWatch

    /// Where the ledger is, for messages: the URL, which never holds a password.
    public var location: String { url.description }

    private init(url: PostgresLedgerURL, connection: PostgresConnection, logger: Logger) {
        self.url = url
        self.connection = connection
        self.logger = logger
        let closeWatch = CloseWatch(location: url.description)
        self.closeWatch = closeWatch
        connection.closeFuture.whenComplete { _ in closeWatch.connectionClosed() }
    }

    /// Connects to the ledger at `url` with `password` (nil: none) and brings its schema up to
    /// date. Throws ``LedgerError/cannotOpen(path:reason:)`` when the server cannot be reached
    /// or refuses the login, ``LedgerError/tooNew(path:version:known:)`` for a schema newer
    /// than this tool's. The driver logs nothing: its debug log would hold the rows' values,
    /// personal data among them; what goes wrong comes back as the error.
    public static func open(url: PostgresLedgerURL, password: String?) async throws -> PostgresLedger {
        let logger = Logger(label: "verilock-batch.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: password, database: url.database,
            tls: try tls(for: url))
        configuration.options.connectTimeout = .seconds(10)
        if url.sslMode == .verifyFull && !isIPAddress(url.host) { configuration.options.tlsServerName = url.host }
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: configuration, id: 1, logger: logger)
        } catch {
            throw LedgerError.cannotOpen(path: url.description, reason: Self.reason(error))
        }
        let ledger = PostgresLedger(url: url, connection: connection, logger: logger)
        do {
            try await ledger.onQueue { try $0.migrate() }
        } catch {
            try? await connection.close()
            throw error
        }
        return ledger
    }

    /// Releases the locks this connection holds (at once, and its holder rows), then closes it.
    public func close() async {
        _ = try? await onQueue { session in
            try session.rows("DELETE FROM ledger_holder WHERE backend_pid = pg_backend_pid()")
            try session.rows("SELECT pg_advisory_unlock_all()")
        }
        try? await connection.close()
    }

    /// A ledger let go without ``close()`` closes its connection all the same: the connection
    /// stays alive until the server has seen it go.
    deinit {
        let connection = self.connection
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// TLS as `url.sslMode` says: the system's trusted roots, the host name checked for
    /// `verify-full`, nothing checked for `require`, no TLS for `disable`.
    private static func tls(for url: PostgresLedgerURL) throws -> PostgresConnection.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch url.sslMode {
        case .disable: return .disable
        case .require: tls.certificateVerification = .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        do {
            return .require(try NIOSSLContext(configuration: tls))
        } catch {
            throw LedgerError.cannotOpen(path: url.description, reason: "cannot set up TLS: \(error)")
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    /// What went wrong, in the server's words when it answered (never the password, which no
    /// message of the server holds).
    static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let code = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return message + code
            }
            if let underlying = error.underlying { return "\(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }

    /// `error` from the server or the connection as a ``LedgerError``: a lost connection is
    /// ``LedgerError/unreachable(path:reason:)``, anything else ``LedgerError/database(path:reason:)``.
    static func ledgerError(_ error: any Error, location: String) -> LedgerError {
        if let error = error as? LedgerError { return error }
        if let error = error as? PSQLError,
            [.serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown].contains(error.code)
        {
            return .unreachable(path: location, reason: reason(error))
        }
        return .database(path: location, reason: reason(error))
    }

    // MARK: Running on the ledger's queue

    /// Runs `body` on the ledger's queue with a synchronous view of the connection.
    func onQueue<T: Sendable>(_ body: @escaping @Sendable (Session) throws -> T) async throws -> T {
        let session = Session(connection: connection, logger: logger, location: location, closeWatch: closeWatch)
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body(session) }) }
        }
    }

    /// The connection as the ledger's queue uses it: each call waits for the server's answer.
    struct Session: Sendable {
        let connection: PostgresConnection
        let logger: Logger
        let location: String
        let closeWatch: CloseWatch

        /// Runs `query` and returns its rows.
        @discardableResult
        func rows(_ query: PostgresQuery) throws -> [PostgresRow] {
            do {
                return Array(try wait(connection.query(query, logger: logger)).rows)
            } catch {
                throw PostgresLedger.ledgerError(error, location: location)
            }
        }

        /// Waits for `future`, or until the connection closes (a query on a connection the server
        /// dropped may otherwise never be answered).
        func wait<T: Sendable>(_ future: EventLoopFuture<T>) throws -> T {
            let answer = future.eventLoop.makePromise(of: T.self)
            future.cascade(to: answer)
            closeWatch.watch { answer.fail($0) }
            defer { closeWatch.watch(nil) }
            return try answer.futureResult.wait()
        }

        /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
        func transaction<T>(_ body: () throws -> T) throws -> T {
            try rows("BEGIN")
            do {
                let result = try body()
                try rows("COMMIT")
                return result
            } catch {
                _ = try? rows("ROLLBACK")
                throw error
            }
        }

        /// Runs `body` in one read-only transaction that sees one snapshot of the ledger.
        func snapshot<T>(_ body: () throws -> T) throws -> T {
            try rows("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            defer { _ = try? rows("ROLLBACK") }
            return try body()
        }

        /// Runs `body` in one transaction that is rolled back at its end, whatever `body` did.
        func rolledBack<T>(_ body: () throws -> T) throws -> T {
            try rows("BEGIN")
            defer { _ = try? rows("ROLLBACK") }
            return try body()
        }

        /// Brings the schema up to date, in one transaction, under a transaction-level
        /// advisory lock so that two hosts starting at once do not both migrate.
        func migrate() throws {
            try transaction {
                try rows("SELECT pg_advisory_xact_lock(\(Self.migrationLock))")
                try rows("CREATE TABLE IF NOT EXISTS ledger_schema (identifier TEXT PRIMARY KEY)")
                let applied = Set(
                    try rows("SELECT identifier FROM ledger_schema").map { try $0.decode(String.self) })
                let known = PostgresSchema.migrations.map(\.identifier)
                if let unknown = applied.subtracting(known).sorted().last {
                    throw LedgerError.tooNew(path: location, version: unknown, known: PostgresSchema.newest)
                }
                for migration in PostgresSchema.migrations where !applied.contains(migration.identifier) {
                    for statement in PostgresSchema.statements(migration.sql) {
                        try rows(PostgresQuery(unsafeSQL: statement))
                    }
                    try rows("INSERT INTO ledger_schema (identifier) VALUES (\(migration.identifier))")
                }
            }
        }

        /// The advisory lock key that guards migrations ("verilock" in ASCII).
        static let migrationLock: Int64 = 0x7665_7269_6C6F_636B
    }
}

extension PostgresLedger {
    /// Fails the answer being waited for when the connection closes: one callback on the
    /// connection's close for the ledger's life, not one per query (queries are waited for one
    /// at a time, on the ledger's queue).
    final class CloseWatch: Sendable {
        private struct State {
            var closed = false
            var failWaiting: (@Sendable (any Error) -> Void)?
        }

        private let state = Mutex(State())
        private let error: LedgerError

        init(location: String) {
            error = .unreachable(path: location, reason: "the connection closed")
        }

        /// Watches for the answer that `fail` fails (nil: none is waited for); fails it at once
        /// when the connection has closed already.
        func watch(_ fail: (@Sendable (any Error) -> Void)?) {
            let closed = state.withLock { state in
                state.failWaiting = fail
                return state.closed
            }
            if closed, let fail { fail(error) }
        }

        /// The connection closed: fails the answer waited for, and every later one.
        func connectionClosed() {
            let fail = state.withLock { state in
                state.closed = true
                defer { state.failWaiting = nil }
                return state.failWaiting
            }
            fail?(error)
        }
    }
}
