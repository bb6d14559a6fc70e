/// Everything that can go wrong resolving, downloading or finding a model on the Hub, each with the
/// context a person needs to act on it.
public enum HubError: Error, Sendable, Equatable {
    /// The name is not `owner/name[:TAG][@revision]`; `reason` says which part is wrong.
    case invalidName(String, reason: String)
    /// A file name (from a name, or from the server's file list) would leave the cache: `..`, an
    /// absolute path, a backslash or an empty component.
    case pathOutsideCache(String)
    /// The repository does not exist, or is private and no token with access was sent.
    case repoNotFound(repo: String)
    /// The repository exists but the license must be accepted on the Hub, or the token lacks access.
    case gated(repo: String)
    /// The server refused the token (401) for a repository that is not gated.
    case unauthorized(repo: String)
    /// The branch, tag or commit does not exist in the repository.
    case revisionNotFound(repo: String, revision: String)
    /// The file does not exist at that revision.
    case fileNotFound(repo: String, path: String)
    /// The repository holds GGUF files but none carries `tag` (or, with no tag, none is Q4_K_M).
    case tagNotFound(repo: String, tag: String?, available: [String])
    /// More than one GGUF file carries `tag`.
    case ambiguousTag(repo: String, tag: String, matches: [String])
    /// A tag was given for a repository that holds no GGUF files.
    case tagWithoutGGUF(repo: String, tag: String)
    /// The repository holds neither GGUF files nor a safetensors checkpoint.
    case noModelFiles(repo: String, files: [String])
    /// `HF_HUB_OFFLINE=1` and the cache does not hold what was asked for. Nothing was requested.
    case offlineMissing(repo: String, revision: String, path: String?)
    /// A downloaded file's sha256 is not the one the Hub announced. The file was deleted.
    case checksumMismatch(path: String, expected: String, actual: String)
    /// The server sent a different number of bytes than it announced (a lying or inconsistent
    /// `Content-Length`, or more bytes than `X-Linked-Size`).
    case sizeMismatch(path: String, expected: Int64, actual: Int64)
    /// The announced size exceeds the configured limit.
    case fileTooLarge(path: String, size: Int64, limit: Int64)
    /// The connection ended before the whole file arrived, after every retry. The partial file is
    /// kept as `<etag>.incomplete` and the next pull resumes it.
    case incompleteDownload(path: String, received: Int64, expected: Int64)
    /// More redirects than allowed (a redirect loop).
    case tooManyRedirects(url: String, limit: Int)
    /// A redirect without a usable `Location`, or to a scheme other than http(s).
    case invalidRedirect(url: String, location: String?)
    /// The Hub's answer lacks a header or field the protocol requires (`X-Repo-Commit`, `ETag`, ...).
    case invalidResponse(url: String, reason: String)
    /// An HTTP status this client does not expect.
    case httpStatus(url: String, status: Int)
    /// A transport failure (connection refused, reset, timeout, DNS).
    case network(url: String, message: String)
    /// The local cache could not be read or written.
    case cache(path: String, message: String)
    /// The name is not in the cache (for `remove`).
    case notCached(repo: String)
}

extension HubError: CustomStringConvertible {
    /// A one-line, actionable description.
    public var description: String {
        switch self {
        case .invalidName(let name, let reason):
            return "invalid model name '\(name)': \(reason) (expected owner/name[:TAG][@revision])"
        case .pathOutsideCache(let path):
            return "unsafe file path '\(path)': it would leave the cache"
        case .repoNotFound(let repo):
            return "repository \(repo) not found on the Hub (if it is private, set HF_TOKEN to a token with access)"
        case .gated(let repo):
            return "repository \(repo) is gated: accept its license on the Hub, then set HF_TOKEN to a token of that account"
        case .unauthorized(let repo):
            return "the Hub refused the token for \(repo): check HF_TOKEN (or the token file under HF_HOME)"
        case .revisionNotFound(let repo, let revision):
            return "revision '\(revision)' not found in \(repo)"
        case .fileNotFound(let repo, let path):
            return "file \(path) not found in \(repo)"
        case .tagNotFound(let repo, let tag, let available):
            let wanted = tag.map { "tag \($0)" } ?? "the default tag Q4_K_M"
            return "\(repo) has no GGUF file with \(wanted); choose one of: \(available.joined(separator: ", "))"
        case .ambiguousTag(let repo, let tag, let matches):
            return "tag \(tag) matches several GGUF files in \(repo): \(matches.joined(separator: ", "))"
        case .tagWithoutGGUF(let repo, let tag):
            return "\(repo) holds no GGUF files, so the tag :\(tag) selects nothing"
        case .noModelFiles(let repo, let files):
            return "\(repo) holds neither GGUF files nor a safetensors checkpoint (files: \(files.prefix(20).joined(separator: ", ")))"
        case .offlineMissing(let repo, let revision, let path):
            let what = path.map { "\($0) of " } ?? ""
            return "HF_HUB_OFFLINE=1 and \(what)\(repo)@\(revision) is not in the cache: pull it while online first"
        case .checksumMismatch(let path, let expected, let actual):
            return "sha256 of \(path) is \(actual), expected \(expected): the download was corrupt and was deleted"
        case .sizeMismatch(let path, let expected, let actual):
            return "\(path): the server announced \(expected) bytes but sent or declared \(actual)"
        case .fileTooLarge(let path, let size, let limit):
            return "\(path) is \(size) bytes, over the limit of \(limit)"
        case .incompleteDownload(let path, let received, let expected):
            return "download of \(path) stopped at \(received) of \(expected) bytes; run the pull again to resume"
        case .tooManyRedirects(let url, let limit):
            return "more than \(limit) redirects from \(url)"
        case .invalidRedirect(let url, let location):
            return "invalid redirect from \(url) to \(location ?? "(no Location header)")"
        case .invalidResponse(let url, let reason):
            return "unexpected answer from \(url): \(reason)"
        case .httpStatus(let url, let status):
            return "HTTP \(status) from \(url)"
        case .network(let url, let message):
            return "cannot reach \(url): \(message)"
        case .cache(let path, let message):
            return "cache error at \(path): \(message)"
        case .notCached(let repo):
            return "\(repo) is not in the cache"
        }
    }
}
