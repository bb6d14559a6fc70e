import Foundation
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// How long a connection may take over each part of a request, how large its head may be, and how
/// many connections may be open at once.
public struct ConnectionLimits: Sendable, Equatable {
    /// From the first byte of a request to the end of its head; past it the server answers 408 and
    /// closes (a slowloris client never finishes its head).
    public var headerTimeout: Duration
    /// From the end of a request's head to the end of its body; past it the server answers 408 and
    /// closes.
    public var bodyTimeout: Duration
    /// How long a keep-alive connection may wait, without a byte of a next request, before the
    /// server closes it.
    public var idleTimeout: Duration
    /// Connections open at once; the next one is answered 503 and closed.
    public var maxConnections: Int
    /// The longest request target (path and query) in bytes; a longer one is answered 414.
    public var maxURLBytes: Int
    /// The largest request head (request line and headers) in bytes; a larger one is answered 431
    /// (or 414 when the request line alone is too long).
    public var maxHeaderBytes: Int

    /// 10 s for a head, 60 s for a body, 30 s idle between requests, 512 connections (room below
    /// the common 1024 open-file limit for model files and the listening socket), 8 KiB targets
    /// and 32 KiB heads.
    public init(headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(60),
                idleTimeout: Duration = .seconds(30), maxConnections: Int = 512, maxURLBytes: Int = 8 << 10,
                maxHeaderBytes: Int = 32 << 10) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.maxURLBytes = maxURLBytes
        self.maxHeaderBytes = maxHeaderBytes
    }
}

/// Why the connection layer refused or cut a request; carried to the handler reading its body.
enum ConnectionLimitError: Error, CustomStringConvertible {
    /// The body did not arrive within ``ConnectionLimits/bodyTimeout``.
    case bodyTimeout(Duration)

    var description: String {
        switch self {
        case let .bodyTimeout(limit): "the request body did not arrive within \(ConnectionGuard.describe(limit))"
        }
    }
}

/// The open connections, shared by every connection of one server.
final class ConnectionCounter: Sendable {
    private let count = NIOLockedValueBox(0)

    /// Counts a connection in, unless `limit` are open already.
    func open(limit: Int) -> Bool {
        count.withLockedValue { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func close() {
        count.withLockedValue { $0 -= 1 }
    }

    var current: Int { count.withLockedValue { $0 } }
}

/// Hummingbird's HTTP/1 child channel with ``ConnectionGuard`` between NIO's HTTP/1 codec and
/// Hummingbird's: the same pipeline as `HTTP1Channel` otherwise, including its idle timeout
/// (``ConnectionLimits/idleTimeout``) and request loop.
struct GuardedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let limits: ConnectionLimits
    let maxBodyBytes: Int
    let counter: ConnectionCounter

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            var decoderLimits = NIOHTTPDecoderLimitConfiguration()
            decoderLimits.maxHeaderFieldSize = limits.maxHeaderBytes
            decoderLimits.maxHeaderListSize = limits.maxHeaderBytes
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(), withDecoderLimitConfiguration: decoderLimits)
            let guardHandler = ConnectionGuard(limits: limits, maxBodyBytes: maxBodyBytes, counter: counter)
            try pipeline.addHandler(ConnectionGuard.InputTap(guardHandler), position: .first)
            try pipeline.addHandler(guardHandler)
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandler(ConnectionWatch())
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: limits.idleTimeout, logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel,
                                       configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}

/// Enforces ``ConnectionLimits`` on one connection and speaks HTTP/1.0 to HTTP/1.0 clients, on
/// NIO's HTTP/1 parts (Hummingbird's request type no longer knows the HTTP version).
///
/// - Over ``ConnectionLimits/maxConnections``, a new connection is answered 503.
/// - A head not complete within ``ConnectionLimits/headerTimeout`` of its first byte is answered
///   408; a body not complete within ``ConnectionLimits/bodyTimeout`` is failed with
///   ``ConnectionLimitError`` so that its handler answers 408.
/// - A target over ``ConnectionLimits/maxURLBytes`` is answered 414, a head over
///   ``ConnectionLimits/maxHeaderBytes`` 431, a declared body over the server's limit 413 before a
///   byte of it is read, other malformed requests 400, each with a JSON error body.
/// - An HTTP/1.0 request gets an HTTP/1.0 response without chunked framing, and the connection
///   closes after it; so does any response carrying `Connection: close`.
///
/// A refused request's connection is closed gracefully: the answer is written, the output side
/// shut, and whatever the client still sends is read and dropped until it closes or falls quiet.
/// Closing at once would make the kernel reset a connection with unread input, and a client still
/// sending its body (Python's `urllib`) would see the reset instead of the answer.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Sits first in the pipeline, before NIO's HTTP decoder, to see the bytes of a head as they
    /// arrive (the header timeout starts at the first of them) and to drop input once a request
    /// has been refused.
    final class InputTap: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        private let owner: ConnectionGuard

        init(_ owner: ConnectionGuard) { self.owner = owner }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            if owner.dropsInput {
                owner.droppedInput()
                return
            }
            owner.received(buffer)
            context.fireChannelRead(data)
        }
    }

    private enum Phase {
        /// Between requests; `started` once a byte of the next head has arrived.
        case awaitingHead(started: Bool)
        case readingBody
        /// The request was refused; input is being drained before the connection closes.
        case refused
    }

    /// How one pending response is framed.
    private struct Framing {
        var version: HTTPVersion
        var close: Bool
    }

    /// How long a refused connection's input may stay quiet before it is closed, and how long it
    /// may be drained at most.
    static let lingerQuiet: TimeAmount = .seconds(2)
    static let lingerMost: TimeAmount = .seconds(30)

    private let limits: ConnectionLimits
    private let maxBodyBytes: Int
    private let counter: ConnectionCounter
    private var counted = false
    private var context: ChannelHandlerContext?
    private var phase = Phase.awaitingHead(started: false)
    /// Responses owed, oldest first (requests may be pipelined).
    private var pending: [Framing] = []
    /// The final head of the oldest pending response has been written.
    private var answering = false
    /// A probe has gone to the client of the oldest pending response (see ``probeDeparture(_:)``).
    private var probed = false
    /// The client's input has ended (a half-close or a full close, not yet told apart).
    private var inputEnded = false
    /// The response being written closes the connection at its end.
    private var closing = false
    /// Bytes of the current request line so far, while it is still open (for 414 over 431).
    private var requestLineBytes = 0
    private var requestLineOpen = false
    private var timer: Scheduled<Void>?
    private var lingerQuietTimer: Scheduled<Void>?
    private var lingerTimer: Scheduled<Void>?
    fileprivate private(set) var dropsInput = false

    init(limits: ConnectionLimits, maxBodyBytes: Int, counter: ConnectionCounter) {
        self.limits = limits
        self.maxBodyBytes = maxBodyBytes
        self.counter = counter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        if counter.open(limit: limits.maxConnections) {
            counted = true
        } else {
            refuse(context, status: .serviceUnavailable, type: "server_error", code: "too_many_connections",
                   "the server has \(limits.maxConnections) connections open, the most it allows; retry later")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        if counted {
            counted = false
            counter.close()
        }
        context.fireChannelInactive()
    }

    // MARK: Input

    /// Bytes before the decoder: starts the header timeout at a head's first byte and measures its
    /// request line.
    fileprivate func received(_ buffer: ByteBuffer) {
        guard let context else { return }
        if case .awaitingHead(started: false) = phase, buffer.readableBytes > 0 {
            phase = .awaitingHead(started: true)
            requestLineOpen = true
            requestLineBytes = 0
            schedule(context, after: limits.headerTimeout) { guard_, context in guard_.headerTimedOut(context) }
        }
        if requestLineOpen {
            if let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                requestLineBytes += newline - buffer.readerIndex
                requestLineOpen = false
            } else {
                requestLineBytes += buffer.readableBytes
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case var .head(head):
            cancelTimer()
            requestLineOpen = false
            if case .refused = phase { return }
            if head.uri.utf8.count > limits.maxURLBytes {
                refuseHead(context, .uriTooLong, code: "uri_too_long",
                           "the request target is \(head.uri.utf8.count) bytes; the most is \(limits.maxURLBytes)")
                return
            }
            if let declared = head.headers.first(name: "content-length").flatMap({ Int($0) }), declared > maxBodyBytes {
                refuseHead(context, .payloadTooLarge, code: "body_too_large", "the request body exceeds \(maxBodyBytes) bytes")
                return
            }
            // HTTP/1.0 has no chunked framing and no reliable keep-alive: its responses are framed
            // by closing. Hummingbird's request loop ends on `Connection: close`.
            let http10 = head.version.major == 1 && head.version.minor == 0
            let close = http10 || !head.isKeepAlive
            if close { head.headers.replaceOrAdd(name: "connection", value: "close") }
            pending.append(Framing(version: http10 ? .http1_0 : .http1_1, close: close))
            phase = .readingBody
            schedule(context, after: limits.bodyTimeout) { guard_, context in guard_.bodyTimedOut(context) }
            context.fireChannelRead(wrapInboundOut(.head(head)))
        case .body:
            guard case .readingBody = phase else { return }
            context.fireChannelRead(data)
        case .end:
            guard case .readingBody = phase else { return }
            cancelTimer()
            phase = .awaitingHead(started: false)
            context.fireChannelRead(data)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .refused = phase { return }  // the decoder failing on input after a refusal
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if parserError == .headerOverflow {
            if requestLineOpen || requestLineBytes > limits.maxURLBytes {
                refuseHead(context, .uriTooLong, code: "uri_too_long",
                           "the request target exceeds \(limits.maxURLBytes) bytes")
            } else {
                refuseHead(context, .requestHeaderFieldsTooLarge, code: "headers_too_large",
                           "the request headers exceed \(limits.maxHeaderBytes) bytes")
            }
        } else {
            refuseHead(context, .badRequest, code: "malformed_request", "malformed HTTP request: \(parserError)")
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            if case .refused = phase {
                context.close(promise: nil)
                return
            }
            inputEnded = true
            probeDeparture(context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Tells a client that closed fully from one that only half-closed, while its request waits.
    ///
    /// Both show as the end of input, and TCP tells them apart only once the server writes: a
    /// closed socket answers the write with a reset, which closes the channel (``ConnectionWatch``
    /// then cancels the request), while a half-closed one reads on. A request that waits writes
    /// nothing, so the write is an interim `100 Continue`, which HTTP/1.1 clients skip before the
    /// final response (RFC 9110, section 15.2). It goes only before that response's head, once per
    /// request (a pipelined request behind an answer is probed once that answer has been written),
    /// and never to HTTP/1.0 clients, which do not know interim responses: those are noticed at
    /// their first write.
    private func probeDeparture(_ context: ChannelHandlerContext) {
        guard inputEnded, case .awaitingHead = phase, let framing = pending.first, framing.version == .http1_1,
              !answering, !probed, context.channel.isActive
        else { return }
        probed = true
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))), promise: nil)
    }

    // MARK: Output

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case var .head(head):
            guard head.status.code >= 200 else {
                context.write(data, promise: promise)
                return
            }
            let framing = pending.first ?? Framing(version: .http1_1, close: false)
            head.version = framing.version
            answering = true
            // 408 and 413 leave a body unread: the connection cannot be reused.
            closing = framing.close || head.status == .requestTimeout || head.status == .payloadTooLarge
                || head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "close" }
            if closing { head.headers.replaceOrAdd(name: "connection", value: "close") }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            if !pending.isEmpty { pending.removeFirst() }
            answering = false
            probed = false
            guard closing else {
                context.write(data, promise: promise)
                probeDeparture(context)
                return
            }
            closing = false
            let written = context.eventLoop.makePromise(of: Void.self)
            context.write(data, promise: written)
            written.futureResult.cascade(to: promise)
            written.futureResult.assumeIsolated().whenComplete { _ in
                self.closeAfterResponse(context)
            }
        }
    }

    /// After a closing response: at once when its request was read whole, else once the rest of
    /// the input has been drained.
    private func closeAfterResponse(_ context: ChannelHandlerContext) {
        switch phase {
        case .awaitingHead: context.close(promise: nil)
        case .readingBody, .refused: linger(context)
        }
    }

    // MARK: Refusals

    private func refuseHead(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, code: String, _ message: String) {
        // A response already owed would interleave with this one: such a client just loses its connection.
        guard pending.isEmpty else {
            phase = .refused
            dropsInput = true
            context.close(promise: nil)
            return
        }
        refuse(context, status: status, type: "invalid_request_error", code: code, message)
    }

    /// Answers `status` with an OpenAI-shaped error and closes gracefully.
    private func refuse(_ context: ChannelHandlerContext, status: HTTPResponseStatus, type: String, code: String,
                        _ message: String) {
        phase = .refused
        dropsInput = true
        cancelTimer()
        let error = APIError(status: .init(code: Int(status.code), reasonPhrase: status.reasonPhrase), message: message,
                             type: type, code: code)
        let body = ByteBuffer(bytes: JSONResponse.data(error.body))
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: "\(body.readableBytes)")
        headers.add(name: "connection", value: "close")
        if status == .serviceUnavailable { headers.add(name: "retry-after", value: "1") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in self.linger(context) }
    }

    /// Shuts the output and drops input until the client closes, falls quiet for
    /// ``lingerQuiet``, or ``lingerMost`` has passed.
    private func linger(_ context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        phase = .refused
        dropsInput = true
        cancelTimer()
        context.close(mode: .output, promise: nil)
        let loop = context.eventLoop.assumeIsolated()
        lingerTimer = loop.scheduleTask(in: Self.lingerMost) { context.close(promise: nil) }
        lingerQuietTimer = loop.scheduleTask(in: Self.lingerQuiet) { context.close(promise: nil) }
    }

    fileprivate func droppedInput() {
        guard let context, lingerQuietTimer != nil else { return }
        lingerQuietTimer?.cancel()
        lingerQuietTimer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.lingerQuiet) { context.close(promise: nil) }
    }

    // MARK: Timers

    private func headerTimedOut(_ context: ChannelHandlerContext) {
        guard case .awaitingHead(started: true) = phase else { return }
        refuseHead(context, .requestTimeout, code: "header_timeout",
                   "the request head did not arrive within \(Self.describe(limits.headerTimeout))")
    }

    private func bodyTimedOut(_ context: ChannelHandlerContext) {
        guard case .readingBody = phase else { return }
        // The handler reading the body answers 408 (``SparrowServer/readBody(_:)``); the rest is dropped.
        dropsInput = true
        context.fireErrorCaught(ConnectionLimitError.bodyTimeout(limits.bodyTimeout))
    }

    private func schedule(_ context: ChannelHandlerContext, after delay: Duration,
                          _ body: @escaping (ConnectionGuard, ChannelHandlerContext) -> Void) {
        cancelTimer()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) { body(self, context) }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    private func cancelTimers() {
        cancelTimer()
        lingerTimer?.cancel()
        lingerTimer = nil
        lingerQuietTimer?.cancel()
        lingerQuietTimer = nil
    }

    /// "10 s", "1.5 s".
    static func describe(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 { return "\(seconds) s" }
        return "\(Double(seconds) + Double(attoseconds) / 1e18) s"
    }
}
