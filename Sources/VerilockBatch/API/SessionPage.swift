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

    public var data: [SessionReport]
    public var meta: Meta?

    /// The page in `body`, or nil when it is not a session list.
    public init?(body: [UInt8]) {
        guard let page = try? JSONDecoder().decode(Self.self, from: Data(body)) else { return nil }
        self = page
    }
}
