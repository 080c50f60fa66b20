import Foundation

/// An answer of the simulator, before it becomes an HTTP response.
public struct SimulatedResponse: Sendable, Equatable {
    /// The HTTP status.
    public var status: Int
    /// Extra headers (name, value).
    public var headers: [String: String]
    /// The JSON body.
    public var body: [UInt8]

    /// A JSON response from a JSON-serialisable object.
    static func json(_ status: Int, _ object: Any, headers: [String: String] = [:]) -> SimulatedResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return SimulatedResponse(status: status, headers: headers, body: Array(data))
    }

    /// An error body as API.md documents it: `{"error", "message", "details"}`.
    static func error(
        _ status: Int,
        _ code: String,
        _ message: String,
        details: Any? = nil,
        headers: [String: String] = [:]
    ) -> SimulatedResponse {
        json(status, ["error": code, "message": message, "details": details ?? NSNull()], headers: headers)
    }
}
