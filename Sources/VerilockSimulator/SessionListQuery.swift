import Foundation

/// The query of `GET /sessions`, read from its parameters.
struct SessionListQuery: Sendable, Equatable {
    var externalID: String?
    var status: SessionStatus?
    var decision: SessionDecision?
    /// Sessions created at or after this instant (`from`: a date, the start of that day UTC,
    /// or a timestamp).
    var from: Date?
    /// Sessions created before this instant (`to`: a date includes that whole day).
    var to: Date?
    var page = 1
    var perPage = 20

    /// The largest page served; a larger `per_page` is served at this size.
    static let maxPerPage = 100

    /// The query `parameters` ask for, or the field errors of a 422 (`{field: [messages]}`).
    static func parse(_ parameters: [String: String]) -> Result<SessionListQuery, FieldErrors> {
        var query = SessionListQuery()
        var errors: [String: [String]] = [:]
        query.externalID = parameters["external_id"]
        if let text = parameters["status"] {
            query.status = SessionStatus(rawValue: text)
            if query.status == nil { errors["status", default: []].append("The selected status is invalid.") }
        }
        if let text = parameters["decision"] {
            query.decision = SessionDecision(rawValue: text)
            if query.decision == nil { errors["decision", default: []].append("The selected decision is invalid.") }
        }
        for (name, isEnd) in [("from", false), ("to", true)] {
            guard let text = parameters[name] else { continue }
            guard let date = instant(text, endOfDay: isEnd) else {
                errors[name, default: []].append("The \(name) field must be a valid date.")
                continue
            }
            if isEnd { query.to = date } else { query.from = date }
        }
        if let text = parameters["page"] {
            if let page = Int(text), page >= 1 {
                query.page = page
            } else {
                errors["page", default: []].append("The page field must be at least 1.")
            }
        }
        if let text = parameters["per_page"] {
            if let perPage = Int(text), perPage >= 1 {
                query.perPage = min(perPage, maxPerPage)
            } else {
                errors["per_page", default: []].append("The per page field must be at least 1.")
            }
        }
        return errors.isEmpty ? .success(query) : .failure(FieldErrors(fields: errors))
    }

    /// `2026-11-28` (the start of that day UTC, or of the next for an end) or an ISO 8601
    /// timestamp.
    private static func instant(_ text: String, endOfDay: Bool) -> Date? {
        if text.count == 10, let day = try? Date("\(text)T00:00:00Z", strategy: .iso8601) {
            return endOfDay ? day.addingTimeInterval(86400) : day
        }
        return try? Date(text, strategy: .iso8601)
    }
}
