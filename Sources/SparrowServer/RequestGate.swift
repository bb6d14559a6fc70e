import Crypto
import Foundation
import Hummingbird

/// Runs before routing: API keys, then methods, then the JSON 404 for unknown paths.
///
/// Hummingbird answers a known path with the wrong method, and an unknown path, with an empty 404;
/// clients get a 405 naming the allowed methods in `Allow`, or a 404, each with the OpenAI-shaped
/// error body.
struct RequestGate<Context: RequestContext>: RouterMiddleware {
    /// Each route and the methods it answers.
    let routes: [String: [HTTPRequest.Method]]
    /// SHA-256 digests of the accepted API keys; empty: no key needed.
    let keyDigests: [[UInt8]]
    /// Paths open without a key.
    static var openPaths: Set<String> { ["/health"] }

    init(routes: [String: [HTTPRequest.Method]], apiKeys: [String]) {
        self.routes = routes
        self.keyDigests = apiKeys.map { Array(SHA256.hash(data: Data($0.utf8))) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
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
