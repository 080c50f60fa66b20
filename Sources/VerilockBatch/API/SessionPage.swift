import Foundation

/// One page of `GET /sessions`: its items and `meta` as the official SDK reads it.
public struct SessionPage: Sendable, Equatable, Decodable {
    /// `meta`: the page's place among all pages.
    public struct Meta: Sendable, Equatable, Decodable {
        public var currentPage: Int?
        public var lastPage: Int?
        public var perPage: Int?
        public var total: Int?

        enum CodingKeys: String, CodingKey {
            case currentPage = "current_page"
            case lastPage = "last_page"
            case perPage = "per_page"
            case total
        }
    }

    /// The page's items that read as session reports, checked (``SessionReport/checked``).
    public var data: [SessionReport]
    /// Items that did not: a missing id or status, a value the API would not send.
    public var malformed = 0
    public var meta: Meta?

    /// The page in `body`, or nil when it is not a session list.
    public init?(body: [UInt8]) {
        guard let page = try? JSONDecoder().decode(Self.self, from: Data(body)) else { return nil }
        self = page
    }

    enum CodingKeys: String, CodingKey { case data, meta }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        meta = try? container.decodeIfPresent(Meta.self, forKey: .meta)
        let items = try container.decode([Item].self, forKey: .data)
        data = items.compactMap { $0.report?.checked }
        malformed = items.count - data.count
    }

    /// One item, read without failing the page.
    private struct Item: Decodable {
        var report: SessionReport?
        init(from decoder: any Decoder) throws { report = try? SessionReport(from: decoder) }
    }
}
