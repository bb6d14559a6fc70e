import Foundation

/// Where and how the client talks to the Hub, read from the same environment variables as Python's
/// `huggingface_hub`.
public struct HubConfiguration: Sendable {
    /// The Hub's base URL, without a trailing slash (`HF_ENDPOINT`, default `https://huggingface.co`).
    public var endpoint: String
    /// The local cache.
    public var cache: HubCache
    /// Sent as `Authorization: Bearer <token>` to the endpoint's host (never to another host, such as
    /// the CDN a large file redirects to).
    public var token: String?
    /// Cache only: no network call is ever made (`HF_HUB_OFFLINE=1`).
    public var offline: Bool
    /// The most redirects one file may take (relative ones on the Hub, then the CDN's).
    public var maxRedirects: Int = 5
    /// Files announced larger than this are refused before any byte is written.
    public var maxFileSize: Int64 = 1 << 40
    /// How many times a dropped download is resumed before giving up.
    public var retries: Int = 3
    /// The pause before a retry.
    public var retryDelay: Duration = .milliseconds(500)
    /// The connect timeout.
    public var connectTimeout: Duration = .seconds(10)
    /// The longest silence while reading a response.
    public var readTimeout: Duration = .seconds(60)
    /// How often a task waiting for another download's lock checks it again.
    public var lockPollInterval: Duration = .milliseconds(50)

    /// A configuration with explicit values.
    public init(endpoint: String = "https://huggingface.co", cache: HubCache, token: String? = nil, offline: Bool = false) {
        var endpoint = endpoint
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        self.endpoint = endpoint
        self.cache = cache
        self.token = token
        self.offline = offline
    }

    /// The configuration `huggingface_hub` would use in this environment: `HF_ENDPOINT`,
    /// `HF_HUB_CACHE` / `HF_HOME`, `HF_TOKEN` (else `HF_TOKEN_PATH`, else `$HF_HOME/token`) and
    /// `HF_HUB_OFFLINE`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        -> HubConfiguration
    {
        let endpoint = nonEmpty(environment["HF_ENDPOINT"]) ?? "https://huggingface.co"
        return HubConfiguration(
            endpoint: endpoint, cache: HubCache(root: HubCache.defaultRoot(environment: environment)),
            token: token(environment: environment), offline: isTrue(environment["HF_HUB_OFFLINE"]))
    }

    /// `HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`.
    public static func hfHome(environment: [String: String]) -> String {
        if let home = nonEmpty(environment["HF_HOME"]) { return expandTilde(home, environment: environment) }
        if let xdg = nonEmpty(environment["XDG_CACHE_HOME"]) { return xdg + "/huggingface" }
        return (nonEmpty(environment["HOME"]) ?? NSHomeDirectory()) + "/.cache/huggingface"
    }

    /// `HF_TOKEN` (or the older `HUGGING_FACE_HUB_TOKEN`), else the token file, trimmed; nil if none.
    public static func token(environment: [String: String]) -> String? {
        if let token = nonEmpty(environment["HF_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines)) { return token }
        if let token = nonEmpty(environment["HUGGING_FACE_HUB_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines)) {
            return token
        }
        let path = nonEmpty(environment["HF_TOKEN_PATH"]) ?? (hfHome(environment: environment) + "/token")
        guard let data = FileManager.default.contents(atPath: path), data.count < 4096 else { return nil }
        return nonEmpty(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func isTrue(_ value: String?) -> Bool {
        guard let value else { return false }
        return ["1", "on", "yes", "true"].contains(value.trimmingCharacters(in: .whitespaces).lowercased())
    }

    static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }

    static func expandTilde(_ path: String, environment: [String: String]) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return (nonEmpty(environment["HOME"]) ?? NSHomeDirectory()) + path.dropFirst()
    }
}
