/// The job's `api.proxy`: it overrides the environment's proxy variables for the API.
public enum ProxySetting: Sendable, Equatable {
    /// `none`: straight to the API, whatever the environment says.
    case direct
    /// Through this proxy, whatever `NO_PROXY` says.
    case server(ProxyServer)

    /// Parses `api.proxy`: `none`, or a proxy URL.
    public init(parsing text: String) throws(APIError) {
        if text.trimmingCharacters(in: .whitespaces).lowercased() == "none" {
            self = .direct
        } else {
            self = .server(try ProxyServer(parsing: text, source: "api.proxy"))
        }
    }
}
