import Hummingbird
import NIOCore

/// The simulator's request context: the basic one, plus the connection, so a fault can drop it.
public struct SimulatorRequestContext: RequestContext {
    /// Hummingbird's core context.
    public var coreContext: CoreRequestContextStorage
    private let channel: any Channel

    /// A context for a request arriving on `source.channel`.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// Closes the connection without an answer (a connection reset, as the client sees it).
    func dropConnection() async throws -> Response {
        try await channel.close()
        throw CancellationError()
    }
}
