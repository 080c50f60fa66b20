/// How a PostgreSQL ledger's connection uses TLS: the URL's `sslmode`, with libpq's meanings.
public enum PostgresSSLMode: String, Sendable, Equatable, CaseIterable {
    /// No TLS at all.
    case disable
    /// TLS, without checking the server's certificate.
    case require
    /// TLS, the certificate checked against the trusted roots, not the host name.
    case verifyCA = "verify-ca"
    /// TLS, the certificate and the host name checked: the default.
    case verifyFull = "verify-full"
}
