import Foundation

/// ISO 8601 timestamps as the ledger, the API and the output write them (UTC, seconds).
public enum Timestamp {
    /// `2026-03-15T11:30:00Z`
    public static func string(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }

    /// Parses an ISO 8601 timestamp, with or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
