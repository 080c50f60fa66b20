/// Where a run is, for the progress line.
public struct RunProgress: Sendable, Equatable {
    /// The stage a run is in.
    public enum Phase: Sendable, Equatable {
        case reading
        case sending
    }

    /// The stage.
    public var phase: Phase
    /// Input bytes read so far.
    public var bytesRead: Int64 = 0
    /// Input bytes in all, when known (not for standard input).
    public var bytesTotal: Int64?
    /// Rows read so far.
    public var rowsRead = 0
    /// Rows that already had a valid session.
    public var existing = 0
    /// Rows rejected so far (while reading, then by the API).
    public var rejected = 0
    /// Rows planned to send (new, pending, reissue).
    public var toSend = 0
    /// Rows that got a session so far.
    public var created = 0
    /// Rows whose create ended so far (created, failed or left pending).
    public var sent = 0
    /// Seconds since sending began.
    public var sendingSeconds = 0.0

    /// A snapshot at the start of `phase`.
    public init(phase: Phase) {
        self.phase = phase
    }

    /// Creates per second since sending began.
    public var rate: Double { sendingSeconds > 0 ? Double(created) / sendingSeconds : 0 }

    /// The one-line summary the progress line shows.
    public var line: String {
        switch phase {
        case .reading:
            let share =
                bytesTotal.map { total in
                    total > 0 ? " \(Int((Double(bytesRead) / Double(total) * 100).rounded(.down)))%" : ""
                } ?? ""
            return "reading\(share): \(RunPreview.number(rowsRead)) rows, \(RunPreview.number(existing)) existing, "
                + "\(RunPreview.number(rejected)) rejected"
        case .sending:
            let remaining = max(0, toSend - sent)
            let eta = rate > 0 ? ", ETA " + Self.clock(Double(remaining) / rate) : ""
            let share = toSend > 0 ? Int((Double(sent) / Double(toSend) * 100).rounded(.down)) : 100
            return "sending \(share)%: \(RunPreview.number(created)) created, \(RunPreview.number(existing)) existing, "
                + "\(RunPreview.number(rejected)) rejected, " + String(format: "%.1f/s", rate) + eta
        }
    }

    /// `1h02m`, `4m05s`, `12s`.
    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total >= 3600 { return String(format: "%dh%02dm", total / 3600, total % 3600 / 60) }
        if total >= 60 { return String(format: "%dm%02ds", total / 60, total % 60) }
        return "\(total)s"
    }
}
