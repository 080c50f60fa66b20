import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// An HTTP CONNECT proxy on 127.0.0.1 for tests, as a corporate network has: it logs each
/// CONNECT line, tunnels to 127.0.0.1 at the port asked for (whatever the host name), and keeps
/// every byte the client sent through the tunnel, so a test can look for the key in it.
final class ConnectProxy: Sendable {
    /// What the proxy saw.
    final class Record: Sendable {
        private let state = Mutex<(log: [String], carried: [UInt8])>(([], []))

        var log: [String] { state.withLock { $0.log } }
        var carried: [UInt8] { state.withLock { $0.carried } }

        func connect(_ line: String) { state.withLock { $0.log.append(line) } }
        func carry(_ buffer: ByteBuffer) { state.withLock { $0.carried += buffer.readableBytesView } }
    }

    let port: Int
    /// What it saw.
    let record: Record
    private let channel: any Channel

    private init(port: Int, channel: any Channel, record: Record) {
        self.port = port
        self.channel = channel
        self.record = record
    }

    /// Starts listening on a free loopback port; a proxy `refusing` answers every CONNECT with
    /// 407 Proxy Authentication Required.
    static func start(refusing: Bool = false) async throws -> ConnectProxy {
        let record = Record()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(ConnectHeadHandler(record: record, refusing: refusing))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return ConnectProxy(port: channel.localAddress?.port ?? 0, channel: channel, record: record)
    }

    /// The proxy's URL, for `HTTPS_PROXY`.
    var url: String { "http://127.0.0.1:\(port)" }

    /// Stops listening.
    func stop() async {
        try? await channel.close()
    }
}

/// Reads a CONNECT request's head, opens the tunnel, answers 200, then relays.
private final class ConnectHeadHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let record: ConnectProxy.Record
    private let refusing: Bool
    private var head = ByteBuffer()
    private var connecting = false

    init(record: ConnectProxy.Record, refusing: Bool) {
        self.record = record
        self.refusing = refusing
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        head.writeBuffer(&buffer)
        guard !connecting, let text = head.getString(at: head.readerIndex, length: head.readableBytes),
            let end = text.range(of: "\r\n\r\n")
        else { return }
        connecting = true
        // "\r\n" is one Character in Swift: split on the string.
        let line = text[..<end.lowerBound].components(separatedBy: "\r\n").first ?? ""
        let parts = line.split(separator: " ")
        guard parts.count == 3, parts[0] == "CONNECT", let colon = parts[1].lastIndex(of: ":"),
            let port = Int(parts[1][parts[1].index(after: colon)...])
        else {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 400 Bad Request\r\n\r\n")), promise: nil)
            context.close(promise: nil)
            return
        }
        record.connect(line)
        if refusing {
            let answer = "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n"
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer)), promise: nil)
            context.close(promise: nil)
            return
        }
        let client = context.channel
        ClientBootstrap(group: context.eventLoop)
            .channelInitializer { upstream in
                upstream.eventLoop.makeCompletedFuture {
                    try upstream.pipeline.syncOperations.addHandler(RelayHandler(partner: client, record: nil))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let upstream):
                    context.writeAndFlush(
                        self.wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 200 Connection established\r\n\r\n")),
                        promise: nil)
                    do {
                        try context.pipeline.syncOperations.addHandler(
                            RelayHandler(partner: upstream, record: self.record), position: .last)
                    } catch {
                        context.close(promise: nil)
                    }
                    context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                case .failure:
                    context.writeAndFlush(
                        self.wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 502 Bad Gateway\r\n\r\n")), promise: nil)
                    context.close(promise: nil)
                }
            }
    }
}

/// Writes what one side of a tunnel reads to the other; closes the other when one closes.
private final class RelayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let partner: any Channel
    private let record: ConnectProxy.Record?

    init(partner: any Channel, record: ConnectProxy.Record?) {
        self.partner = partner
        self.record = record
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        record?.carry(buffer)
        partner.writeAndFlush(buffer, promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
