import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// Notices a client going away while its request waits for a queue slot, a whole answer or its
/// first token, when nothing is being written that could fail.
///
/// Hummingbird does not cancel a handler when its connection closes, so this handler watches for
/// the channel going inactive: a reset, a failed write, or the server closing it. A client that
/// half-closes (`shutdown(SHUT_WR)` after a complete request, legal HTTP/1.1) still reads its
/// answer, so the `inputClosed` event that half-closure shows as is not a departure. TCP tells a
/// half-close from a full close only once the server writes, so ``ConnectionGuard`` answers the
/// end of input of an HTTP/1.1 request still waiting with an interim `100 Continue`: a client
/// that closed fully answers it with a reset, which closes the channel. An HTTP/1.0 client is
/// noticed at the first write of its answer (for a stream, its first token).
final class ConnectionWatch: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    private struct State {
        var gone = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextID: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    func channelInactive(context: ChannelHandlerContext) {
        markGone()
        context.fireChannelInactive()
    }

    /// Returns once the client has gone, or when the calling task is cancelled.
    func waitUntilGone() async {
        let id = state.withLockedValue { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLockedValue { state -> Bool in
                    if state.gone || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    private func markGone() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.gone = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Runs `body`, cancelling it if the client of `channel` goes away first.
    /// - Throws: `CancellationError` when the client went away; whatever `body` throws.
    static func untilClientGone<T: Sendable>(_ channel: any Channel, _ body: @escaping @Sendable () async throws -> T)
        async throws -> T
    {
        guard let watch = try? await channel.pipeline.handler(type: ConnectionWatch.self).get() else {
            return try await body()
        }
        return try await withThrowingTaskGroup(of: Outcome<T>.self) { group in
            group.addTask { .answered(try await body()) }
            group.addTask {
                await watch.waitUntilGone()
                return .clientGone
            }
            defer { group.cancelAll() }
            while let outcome = try await group.next() {
                switch outcome {
                case let .answered(value): return value
                case .clientGone: throw CancellationError()
                }
            }
            throw CancellationError()
        }
    }

    private enum Outcome<T: Sendable>: Sendable {
        case answered(T)
        case clientGone
    }
}

/// The request context: Hummingbird's basic one plus the connection, for ``ConnectionWatch``, and
/// what the handler learns for the request's log line.
struct ServerRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    let record = RequestRecord()

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
