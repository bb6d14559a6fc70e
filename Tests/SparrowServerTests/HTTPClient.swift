import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real HTTP client for the tests: URLSession (libcurl on Linux) over loopback TCP.
struct HTTPClient: Sendable {
    let base: URL
    let session: URLSession

    init(port: Int) {
        // `localhost` could resolve to ::1 first while the server listens on 127.0.0.1 only.
        base = URL(string: "http://127.0.0.1:\(port)") ?? URL(fileURLWithPath: "/")
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 120
        // Tests run more requests at once than URLSession's default of 6 per host.
        configuration.httpMaximumConnectionsPerHost = 32
        session = URLSession(configuration: configuration)
    }

    struct Result: Sendable {
        let status: Int
        let contentType: String
        let body: Data

        var text: String { String(decoding: body, as: UTF8.self) }

        /// The body as a JSON object.
        func json() throws -> [String: Any] {
            let value = try JSONSerialization.jsonObject(with: body)
            guard let object = value as? [String: Any] else { throw TestFailure("not a JSON object: \(text)") }
            return object
        }

        /// The `data:` payloads of a Server-Sent Events body, in order.
        var events: [String] {
            text.components(separatedBy: "\n\n").compactMap { block in
                block.hasPrefix("data: ") ? String(block.dropFirst(6)) : nil
            }
        }

        /// The JSON events, without the final `[DONE]`.
        func jsonEvents() throws -> [[String: Any]] {
            try events.filter { $0 != "[DONE]" }.map { event in
                guard let object = try JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any] else {
                    throw TestFailure("event is not a JSON object: \(event)")
                }
                return object
            }
        }

        /// The OpenAI error body's `error` member.
        func error() throws -> [String: Any] {
            guard let error = try json()["error"] as? [String: Any] else { throw TestFailure("no error object: \(text)") }
            return error
        }
    }

    func get(_ path: String) async throws -> Result {
        try await send(URLRequest(url: base.appendingPathComponent(path)))
    }

    func post(_ path: String, _ body: String) async throws -> Result {
        try await post(path, data: Data(body.utf8))
    }

    func post(_ path: String, data: Data) async throws -> Result {
        var request = URLRequest(url: base.appendingPathComponent(path))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = data
        return try await send(request)
    }

    private func send(_ request: URLRequest) async throws -> Result {
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw TestFailure("not an HTTP response") }
        return Result(status: http.statusCode, contentType: http.value(forHTTPHeaderField: "Content-Type") ?? "", body: data)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
