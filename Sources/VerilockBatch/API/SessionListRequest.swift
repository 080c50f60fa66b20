import Foundation

/// One page of `GET {base}/sessions`, with the query parameters the official SDK sends.
public struct SessionListRequest: Sendable, Equatable {
    /// `external_id`: only this applicant's sessions.
    public var externalID: String?
    /// `from`: only sessions created on or after this day (`YYYY-MM-DD`, UTC).
    public var createdFrom: String?
    /// `page`, from 1.
    public var page: Int
    /// `per_page`: the API serves at most 100.
    public var perPage: Int

    /// The largest page the API is known to serve.
    public static let maxPerPage = 100

    /// A page of the given query.
    public init(externalID: String? = nil, createdFrom: String? = nil, page: Int = 1, perPage: Int = maxPerPage) {
        self.externalID = externalID
        self.createdFrom = createdFrom
        self.page = page
        self.perPage = perPage
    }

    /// The query string, percent-encoded (a `+` too, which some servers read as a space).
    var query: String {
        var components = URLComponents()
        components.queryItems =
            [
                externalID.map { URLQueryItem(name: "external_id", value: $0) },
                createdFrom.map { URLQueryItem(name: "from", value: $0) },
                URLQueryItem(name: "page", value: String(page)),
                URLQueryItem(name: "per_page", value: String(perPage)),
            ].compactMap { $0 }
        return (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
    }
}
