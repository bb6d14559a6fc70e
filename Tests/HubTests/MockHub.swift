import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A file in a mock repository.
struct MockFile: Sendable {
    var content: [UInt8]
    /// Served as the Hub serves LFS files: a 302 from `/resolve/` to `/lfs/<sha256>` on another host
    /// name (`localhost`, so the token must not follow), with `X-Linked-Etag` and `X-Linked-Size`.
    var lfs: Bool = false
    /// Announced instead of the real sha256 (a corrupt CDN copy).
    var announcedSHA256: String?
    /// Announced instead of the real etag (an unsafe one, say).
    var announcedEtag: String?
    /// The `Content-Length` of the GET, when it lies.
    var lyingContentLength: Int?
    /// The first this many GETs of the LFS content send half of what they promise, then close.
    var drops: Int = 0
    /// The body goes out in 8 pieces this far apart (so concurrent pulls overlap).
    var pieceDelayMilliseconds: Int = 0
    /// The LFS server answers a `Range` request with the whole file (200).
    var ignoresRange = false
    /// The LFS body waits until ``MockHub/release()``.
    var heldUntilReleased = false

    init(_ text: String, lfs: Bool = false) {
        self.content = Array(text.utf8)
        self.lfs = lfs
    }

    init(bytes: [UInt8], lfs: Bool = true) {
        self.content = bytes
        self.lfs = lfs
    }

    var sha256: String { hex(SHA256.hash(data: content)) }
    /// The git blob id, the etag of a small file.
    var gitBlobID: String { hex(Insecure.SHA1.hash(data: Array("blob \(content.count)\0".utf8) + content)) }
}

func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
    digest.map { String(format: "%02x", $0) }.joined()
}

/// A mock repository: commits, the refs that name them, and access rules.
struct MockRepo: Sendable {
    var commits: [String: [String: MockFile]]
    var refs: [String: String]
    /// Gated: 401 without a token, 403 with a token other than `MockHub.goodToken`.
    var gated = false
    /// `/resolve/` answers with a relative redirect to itself.
    var redirectLoop = false
    /// The repository was renamed: every request answers 307 to the same path under this name.
    var renamedTo: String?

    /// One commit, on `main`.
    init(commit: String = MockHub.commit(1), files: [String: MockFile], gated: Bool = false) {
        commits = [commit: files]
        refs = ["main": commit]
        self.gated = gated
    }
}

/// A request the mock saw.
struct LoggedRequest: Sendable {
    var method: String
    var path: String
    var range: String?
    var authorization: String?
}

/// A Hub on 127.0.0.1 for one test: `/api/models/{repo}/revision/{rev}`, `HEAD`/`GET`
/// `/{repo}/resolve/{rev}/{path}` with the Hub's headers, `/lfs/{sha256}` with `Range`, 401/403 for
/// gated repositories, 404s with `X-Error-Code`, and connections dropped mid-file.
final class MockHub: Sendable {
    static let goodToken = "hf_mock_good_token"

    struct State: Sendable {
        var repos: [String: MockRepo]
        var log: [LoggedRequest] = []
        var dropsLeft: [String: Int] = [:]
        var released = false
    }

    let state: NIOLockedValueBox<State>
    private let channel: NIOLockedValueBox<(any Channel)?> = .init(nil)
    private let portBox = NIOLockedValueBox(0)

    var port: Int { portBox.withLockedValue { $0 } }
    var endpoint: String { "http://127.0.0.1:\(port)" }
    var log: [LoggedRequest] { state.withLockedValue { $0.log } }

    /// A commit hash made from a number.
    static func commit(_ n: Int) -> String {
        let digits = String(n, radix: 16)
        return String(repeating: "a", count: 40 - digits.count) + digits
    }

    init(repos: [String: MockRepo]) {
        state = NIOLockedValueBox(State(repos: repos))
    }

    /// Starts a mock, runs `body`, stops it.
    static func with<T: Sendable>(_ repos: [String: MockRepo], _ body: (MockHub) async throws -> T) async throws -> T {
        let hub = MockHub(repos: repos)
        try await hub.start()
        do {
            let result = try await body(hub)
            try await hub.stop()
            return result
        } catch {
            try? await hub.stop()
            throw error
        }
    }

    func start() async throws {
        let hub = self
        let bound = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MockHandler(hub: hub))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        portBox.withLockedValue { $0 = bound.localAddress?.port ?? 0 }
        channel.withLockedValue { $0 = bound }
    }

    func stop() async throws {
        let bound = channel.withLockedValue { $0 }
        try await bound?.close()
    }

    /// Lets held bodies go.
    func release() { state.withLockedValue { $0.released = true } }
    var isReleased: Bool { state.withLockedValue { $0.released } }

    /// Requests whose path contains `fragment`, with `method`.
    func count(_ method: String, _ fragment: String) -> Int {
        log.filter { $0.method == method && $0.path.contains(fragment) }.count
    }

    // MARK: - Routing

    struct Reply {
        var status: HTTPResponseStatus
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        /// Send this many body bytes, then close the connection.
        var dropAfter: Int?
        var pieceDelayMilliseconds = 0
        var contentLength: Int?
        /// Send the body only after ``MockHub/release()``.
        var held = false
    }

    func handle(_ head: HTTPRequestHead) -> Reply {
        let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
        state.withLockedValue {
            $0.log.append(
                LoggedRequest(
                    method: head.method.rawValue, path: path, range: head.headers.first(name: "range"),
                    authorization: head.headers.first(name: "authorization")))
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            String($0).removingPercentEncoding ?? String($0)
        }
        let token = head.headers.first(name: "authorization")
        if parts.count == 6, parts[0] == "api", parts[1] == "models", parts[4] == "revision" {
            return apiInfo(repo: parts[2] + "/" + parts[3], revision: parts[5], token: token)
        }
        if parts.count >= 5, parts[2] == "resolve" {
            return resolve(
                repo: parts[0] + "/" + parts[1], revision: parts[3], file: parts[4...].joined(separator: "/"),
                token: token, head: head)
        }
        if parts.count == 2, parts[0] == "lfs" {
            return lfs(sha: parts[1], head: head)
        }
        return Reply(status: .notFound)
    }

    private func access(_ repoName: String, token: String?) -> (MockRepo?, Reply?) {
        guard let repo = state.withLockedValue({ $0.repos[repoName] }) else {
            return (nil, Reply(status: .notFound, headers: [("X-Error-Code", "RepoNotFound")]))
        }
        if repo.gated {
            guard let token else { return (nil, Reply(status: .unauthorized, headers: [("X-Error-Code", "GatedRepo")])) }
            guard token == "Bearer \(Self.goodToken)" else {
                return (nil, Reply(status: .forbidden, headers: [("X-Error-Code", "GatedRepo")]))
            }
        }
        return (repo, nil)
    }

    private func commit(of repo: MockRepo, _ revision: String) -> String? {
        if repo.commits[revision] != nil { return revision }
        return repo.refs[revision]
    }

    private func apiInfo(repo name: String, revision: String, token: String?) -> Reply {
        if let renamed = state.withLockedValue({ $0.repos[name]?.renamedTo }) {
            return Reply(status: .temporaryRedirect, headers: [("Location", "/api/models/\(renamed)/revision/\(revision)")])
        }
        let (found, denial) = access(name, token: token)
        guard let repo = found else { return denial ?? Reply(status: .notFound) }
        guard let commit = commit(of: repo, revision), let files = repo.commits[commit] else {
            return Reply(status: .notFound, headers: [("X-Error-Code", "RevisionNotFound")])
        }
        let siblings = files.keys.sorted().map { ["rfilename": $0] }
        let json: [String: Any] = ["id": name, "sha": commit, "siblings": siblings]
        let body = (try? JSONSerialization.data(withJSONObject: json)).map { Array($0) } ?? []
        return Reply(status: .ok, headers: [("Content-Type", "application/json")], body: body)
    }

    private func resolve(repo name: String, revision: String, file: String, token: String?, head: HTTPRequestHead)
        -> Reply
    {
        if let renamed = state.withLockedValue({ $0.repos[name]?.renamedTo }) {
            return Reply(status: .temporaryRedirect, headers: [("Location", "/\(renamed)/resolve/\(revision)/\(file)")])
        }
        let (found, denial) = access(name, token: token)
        guard let repo = found else { return denial ?? Reply(status: .notFound) }
        if repo.redirectLoop {
            return Reply(status: .found, headers: [("Location", "/\(name)/resolve/\(revision)/\(file)")])
        }
        guard let commit = commit(of: repo, revision), let files = repo.commits[commit] else {
            return Reply(status: .notFound, headers: [("X-Error-Code", "RevisionNotFound")])
        }
        guard let mock = files[file] else {
            return Reply(status: .notFound, headers: [("X-Error-Code", "EntryNotFound")])
        }
        if mock.lfs {
            let sha = mock.announcedSHA256 ?? mock.sha256
            return Reply(
                status: .found,
                headers: [
                    ("X-Repo-Commit", commit), ("X-Linked-Etag", "\"\(mock.announcedEtag ?? sha)\""),
                    ("X-Linked-Size", "\(mock.content.count)"), ("ETag", "\"\(mock.gitBlobID)\""),
                    ("Location", "http://localhost:\(port)/lfs/\(mock.sha256)"),
                ], contentLength: 0)
        }
        return Reply(
            status: .ok,
            headers: [("X-Repo-Commit", commit), ("ETag", "\"\(mock.announcedEtag ?? mock.gitBlobID)\"")],
            body: mock.content)
    }

    private func lfs(sha: String, head: HTTPRequestHead) -> Reply {
        let found = state.withLockedValue { state in
            state.repos.values.lazy.flatMap { $0.commits.values }.flatMap { $0.values }.first { $0.sha256 == sha }
        }
        guard let mock = found else { return Reply(status: .notFound) }
        var start = 0
        if let range = head.headers.first(name: "range"), !mock.ignoresRange {
            guard range.hasPrefix("bytes="), range.hasSuffix("-"),
                let from = Int(range.dropFirst(6).dropLast()), from >= 0
            else { return Reply(status: .badRequest) }
            guard from < mock.content.count else {
                return Reply(status: .rangeNotSatisfiable, headers: [("Content-Range", "bytes */\(mock.content.count)")])
            }
            start = from
        }
        let body = Array(mock.content[start...])
        var reply = Reply(status: start > 0 ? .partialContent : .ok, body: body)
        if start > 0 {
            reply.headers.append(("Content-Range", "bytes \(start)-\(mock.content.count - 1)/\(mock.content.count)"))
        }
        reply.contentLength = mock.lyingContentLength
        reply.pieceDelayMilliseconds = mock.pieceDelayMilliseconds
        reply.held = mock.heldUntilReleased
        let drop = state.withLockedValue { state -> Bool in
            let left = state.dropsLeft[sha] ?? mock.drops
            state.dropsLeft[sha] = max(0, left - 1)
            return left > 0
        }
        if drop { reply.dropAfter = body.count / 2 }
        return reply
    }
}

/// Answers each request from ``MockHub/handle(_:)``.
final class MockHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let hub: MockHub
    private var head: HTTPRequestHead?

    init(hub: MockHub) { self.hub = hub }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(context: context, head: head)
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        send(hub.handle(head), context: context, head: head)
    }

    private func send(_ reply: MockHub.Reply, context: ChannelHandlerContext, head: HTTPRequestHead) {
        if reply.held, !hub.isReleased {
            context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(10)) {
                self.send(reply, context: context, head: head)
            }
            return
        }
        var headers = HTTPHeaders(reply.headers)
        headers.replaceOrAdd(name: "Content-Length", value: "\(reply.contentLength ?? reply.body.count)")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers))),
                      promise: nil)
        if head.method == .HEAD {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        if let dropAfter = reply.dropAfter {
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: reply.body.prefix(dropAfter))))),
                                  promise: nil)
            context.close(promise: nil)
            return
        }
        guard reply.pieceDelayMilliseconds > 0, reply.body.count >= 8 else {
            if !reply.body.isEmpty {
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: reply.body)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        // Eight pieces, spaced out.
        let pieceSize = (reply.body.count + 7) / 8
        let pieces = stride(from: 0, to: reply.body.count, by: pieceSize).map {
            Array(reply.body[$0..<min($0 + pieceSize, reply.body.count)])
        }
        let loop = context.eventLoop.assumeIsolated()
        for (i, piece) in pieces.enumerated() {
            loop.scheduleTask(in: .milliseconds(Int64(reply.pieceDelayMilliseconds * (i + 1)))) {
                context.writeAndFlush(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: piece)))), promise: nil)
                if i == pieces.count - 1 { context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil) }
            }
        }
    }
}
