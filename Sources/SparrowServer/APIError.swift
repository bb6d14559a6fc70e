import GenerateAPI
import Hummingbird

/// An error answer in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`, with its
/// HTTP status. Every failure a request can cause ends up as one of these, never as a bare 500.
public struct APIError: Error, Sendable, Equatable {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// A sentence for the client.
    public var message: String
    /// OpenAI's error class: `invalid_request_error`, `rate_limit_error`, `server_error`.
    public var type: String
    /// The request field at fault, when there is one.
    public var param: String?
    /// A machine-readable code (`model_not_found`, `queue_full`, `body_too_large`), when there is one.
    public var code: String?

    public init(status: HTTPResponse.Status, message: String, type: String, param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    /// A 429 for a model whose queue is full: `detail` says what holds it ("its batch is full and
    /// 64 requests waiting").
    static func queueFull(model: String, _ detail: String) -> APIError {
        APIError(status: .tooManyRequests, message: "the server is busy with model \(model): \(detail); retry later",
                 type: "rate_limit_error", code: "queue_full")
    }

    /// A 400 naming the field at fault.
    static func invalid(_ message: String, param: String?) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param)
    }

    /// The answer to an engine error. Everything a client can fix is 400 (or 404 for an unknown
    /// model); a model file that fails to load or a failing forward pass is the server's fault.
    init(_ error: GenerateError) {
        switch error {
        case .invalidField, .invalidJSON, .noChatTemplate, .templateFailed, .promptTooLong, .contextExceeded:
            self = .invalid(error.description, param: error.field)
        case .unknownModel:
            self.init(status: .notFound, message: error.description, type: "invalid_request_error",
                      param: error.field, code: "model_not_found")
        case .queueFull:
            self.init(status: .tooManyRequests, message: error.description, type: "rate_limit_error", code: "queue_full")
        case .modelLoadFailed, .tokenizerLoadFailed, .inference:
            self.init(status: .internalServerError, message: error.description, type: "server_error", param: error.field)
        }
    }

    /// Any error from decoding or answering a request.
    init(any error: any Error) {
        switch error {
        case let error as APIError: self = error
        case let error as GenerateError: self.init(error)
        case is CancellationError:
            // Only seen when the client went away; there is nobody to read this.
            self.init(status: .init(code: 499, reasonPhrase: "Client Closed Request"), message: "request cancelled",
                      type: "server_error")
        default:
            self.init(status: .internalServerError, message: "internal error: \(error)", type: "server_error")
        }
    }

    /// The JSON body.
    var body: Body {
        Body(error: .init(message: message, type: type, param: param, code: code))
    }

    struct Body: Codable, Sendable, Equatable {
        struct Detail: Codable, Sendable, Equatable {
            var message: String
            var type: String
            var param: String?
            var code: String?

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(message, forKey: .message)
                try c.encode(type, forKey: .type)
                try c.encode(param, forKey: .param)  // null rather than absent, as OpenAI sends it
                try c.encode(code, forKey: .code)
            }
        }
        var error: Detail
    }

    /// The HTTP response carrying it.
    var response: Response {
        JSONResponse.make(body, status: status)
    }
}
