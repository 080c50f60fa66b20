extension String {
    /// The string without leading and trailing spaces and tabs. The per-row path calls this for
    /// every cell: when there is nothing to trim (nearly always), it returns the string itself
    /// without touching Foundation.
    var trimmingBlanks: String {
        let utf8 = self.utf8
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        guard let first = utf8.first, let last = utf8.last, isBlank(first) || isBlank(last) else { return self }
        var start = utf8.startIndex
        var end = utf8.endIndex
        while start < end, isBlank(utf8[start]) { start = utf8.index(after: start) }
        while end > start, isBlank(utf8[utf8.index(before: end)]) { end = utf8.index(before: end) }
        return String(Substring(utf8[start..<end]))
    }
}
