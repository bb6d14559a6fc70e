import Crypto
import Foundation
import Hummingbird
import Logging

/// Runs before routing: CORS preflights, API keys, then methods, then the JSON 404 for unknown
/// paths; CORS headers go on every answer to an allowed origin, refusals included, so that a page
/// can read why it was refused.
///
/// Hummingbird answers a known path with the wrong method, and an unknown path, with an empty 404;
/// clients get a 405 naming the allowed methods in `Allow`, or a 404, each with the OpenAI-shaped
/// error body.
struct RequestGate<Context: RequestContext>: RouterMiddleware {
    /// Each route and the methods it answers.
    let routes: [String: [HTTPRequest.Method]]
    /// SHA-256 digests of the accepted API keys; empty: no key needed.
    let keyDigests: [[UInt8]]
    /// Origins whose pages may call the API (`*`: any); empty: no CORS headers.
    let corsOrigins: Set<String>
    /// Paths open without a key.
    static var openPaths: Set<String> { ["/health"] }
    /// How long a browser may cache a preflight's answer, in seconds.
    static var preflightMaxAge: String { "600" }

    /// Where each answer is counted and timed; `nil`: nowhere, and no log line.
    let metrics: ServerMetrics?

    init(routes: [String: [HTTPRequest.Method]], apiKeys: [String], corsOrigins: [String] = [], metrics: ServerMetrics? = nil) {
        self.routes = routes
        self.keyDigests = apiKeys.map { Array(SHA256.hash(data: Data($0.utf8))) }
        self.corsOrigins = Set(corsOrigins)
        self.metrics = metrics
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var response = try await respond(request, context: context, next: next)
        guard let metrics else { return response }
        // A route or "other": a client must not be able to add label values.
        let endpoint = routes[request.uri.path] != nil ? request.uri.path : "other"
        let status = response.status.code
        let logger = context.logger
        let record = (context as? ServerRequestContext)?.record
        let method = request.method.rawValue
        let original = response.body
        // Counted and logged once the last byte is written, so that a stream's duration is its own.
        response.body = ResponseBody(contentLength: original.contentLength) { writer in
            var failure: (any Error)?
            do { try await original.write(writer) } catch { failure = error }
            let duration = ContinuousClock.now - started
            metrics.request(endpoint: endpoint, status: status, duration: duration)
            let fields = record?.current
            var metadata: Logger.Metadata = [
                "method": "\(method)", "endpoint": "\(endpoint)", "status": "\(status)",
                "duration_ms": "\(Self.milliseconds(duration))",
            ]
            if let model = fields?.model { metadata["model"] = "\(model)" }
            if let prompt = fields?.promptTokens { metadata["prompt_tokens"] = "\(prompt)" }
            if let generated = fields?.generatedTokens { metadata["generated_tokens"] = "\(generated)" }
            if let first = fields?.firstToken { metadata["ttft_ms"] = "\(Self.milliseconds(first))" }
            if let failure { metadata["write_error"] = "\(failure)" }
            logger.info("request", metadata: metadata)
            if let failure { throw failure }
        }
        return response
    }

    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.1f", Double(seconds) * 1000 + Double(attoseconds) / 1e15)
    }

    private func respond(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let origin = request.headers[.origin]
        let allowedOrigin = origin.flatMap(corsAllowOrigin)
        if request.method == .options, let origin, request.headers[.accessControlRequestMethod] != nil, !corsOrigins.isEmpty {
            return preflight(request, origin: origin, allowedOrigin: allowedOrigin)
        }
        var response = try await gate(request, context: context, next: next)
        if let allowedOrigin {
            response.headers[.accessControlAllowOrigin] = allowedOrigin
            if allowedOrigin != "*" {
                // The answer depends on the origin: caches must keep one per origin.
                response.headers[.vary] = response.headers[.vary].map { "\($0), Origin" } ?? "Origin"
            }
        }
        return response
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if it is allowed.
    /// A listed origin is echoed (a response names one origin); with `*`, any origin gets `*`.
    func corsAllowOrigin(_ origin: String) -> String? {
        if corsOrigins.contains("*") { return "*" }
        return corsOrigins.contains(origin) ? origin : nil
    }

    /// The answer to a CORS preflight (Fetch standard, "CORS-preflight fetch"): 204 naming the
    /// path's methods and the headers asked for, or 403 for an origin not allowed. It needs no API
    /// key: browsers send preflights without credentials.
    private func preflight(_ request: Request, origin: String, allowedOrigin: String?) -> Response {
        guard let allowedOrigin else {
            return APIError(status: .forbidden, message: "the origin \(origin) may not call this API (see --cors-origin)",
                            type: "invalid_request_error", code: "origin_not_allowed").response
        }
        let methods = (routes[request.uri.path] ?? [.get, .post]).map(\.rawValue) + ["OPTIONS"]
        var headers: HTTPFields = [
            .accessControlAllowOrigin: allowedOrigin,
            .accessControlAllowMethods: methods.joined(separator: ", "),
            .accessControlMaxAge: Self.preflightMaxAge,
        ]
        // The headers the page asked for: Authorization and Content-Type, and whatever OpenAI's
        // browser client adds (x-stainless-*); the server reads only the first two.
        headers[.accessControlAllowHeaders] = request.headers[.accessControlRequestHeaders] ?? "Authorization, Content-Type"
        if allowedOrigin != "*" { headers[.vary] = "Origin" }
        return Response(status: .noContent, headers: headers)
    }

    private func gate(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if !keyDigests.isEmpty, !Self.openPaths.contains(path), let refusal = authorizationRefusal(request.headers[.authorization]) {
            var response = refusal.response
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        if let allowed = routes[path], !allowed.contains(request.method) {
            let names = allowed.map(\.rawValue).joined(separator: ", ")
            var response = APIError(status: .methodNotAllowed,
                                    message: "\(request.method.rawValue) is not allowed on \(path); use \(names)",
                                    type: "invalid_request_error", code: "method_not_allowed").response
            response.headers[.allow] = names
            return response
        }
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            return APIError(status: .notFound, message: "no such endpoint: \(request.method.rawValue) \(path)",
                            type: "invalid_request_error", code: "not_found").response
        }
    }

    /// `nil` when `header` is `Bearer K` for an accepted key K; else the 401 saying what is wrong.
    func authorizationRefusal(_ header: String?) -> APIError? {
        guard let header, !header.isEmpty else {
            return APIError(status: .unauthorized,
                            message: "an API key is needed: send the header Authorization: Bearer YOUR_KEY",
                            type: "invalid_request_error", code: "missing_api_key")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return APIError(status: .unauthorized, message: "the Authorization header must be Bearer YOUR_KEY",
                            type: "invalid_request_error", code: "invalid_api_key")
        }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard Self.matches(Array(SHA256.hash(data: Data(token.utf8))), keyDigests) else {
            return APIError(status: .unauthorized, message: "incorrect API key provided",
                            type: "invalid_request_error", code: "invalid_api_key")
        }
        return nil
    }

    /// Whether `digest` is one of `digests`, in time that depends on neither: every byte of every
    /// digest is compared, and digests have one length whatever the key's.
    static func matches(_ digest: [UInt8], _ digests: [[UInt8]]) -> Bool {
        var found: UInt8 = 0
        for candidate in digests {
            var difference: UInt8 = candidate.count == digest.count ? 0 : 1
            for (a, b) in zip(candidate, digest) { difference |= a ^ b }
            found |= difference == 0 ? 1 : 0
        }
        return found == 1
    }
}
