import Foundation
import Hummingbird

/// JSON bodies and Server-Sent Events framing.
enum JSONResponse {
    /// The encoder every answer uses. A log-probability of -inf has no JSON number, so non-finite
    /// values are written as strings (as the `sparrow generate --json` output does) instead of
    /// failing the whole response.
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]  // sorted: the same answer, the same bytes
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }

    /// `value` as JSON bytes; a value that cannot be encoded becomes an error object, so that a
    /// response is always well-formed JSON.
    static func data<T: Encodable>(_ value: T) -> Data {
        do {
            return try encoder().encode(value)
        } catch {
            let fallback = APIError(status: .internalServerError, message: "cannot encode the response: \(error)", type: "server_error")
            return (try? encoder().encode(fallback.body)) ?? Data(#"{"error":{"message":"cannot encode the response","type":"server_error","param":null,"code":null}}"#.utf8)
        }
    }

    /// A complete `application/json` response.
    static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let bytes = data(value)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// One Server-Sent Event carrying `value` as JSON: `data: {...}\n\n`.
    static func event<T: Encodable>(_ value: T) -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(data(value))
        buffer.writeString("\n\n")
        return buffer
    }

    /// The event that ends every stream, as OpenAI's API ends it.
    static let done = ByteBuffer(string: "data: [DONE]\n\n")

    /// The headers of an event stream (`no-cache`: a proxy must not hold deltas back).
    static let eventStreamHeaders: HTTPFields = [
        .contentType: "text/event-stream",
        .cacheControl: "no-cache",
    ]
}
