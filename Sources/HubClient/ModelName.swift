/// A model named by its Hub id: `owner/name[:TAG][@revision]`.
///
/// - `owner/name` is the repository, validated as the Hub validates repository ids (letters, digits,
///   `-`, `_`, `.`; no `--` or `..`; at most 96 characters per part).
/// - `TAG` picks a GGUF file whose name carries it, case-insensitively (`Q4_K_M`, `q4_1`, `BF16`).
/// - `revision` is a branch, tag or commit; `main` when absent. `owner/name@rev:TAG` is accepted too.
///
/// ```swift
/// let name = try ModelName("bartowski/SmolLM2-135M-Instruct-GGUF:Q4_1@main")
/// ```
public struct ModelName: Sendable, Hashable, CustomStringConvertible {
    /// The repository owner (user or organization).
    public let owner: String
    /// The repository's name within its owner.
    public let name: String
    /// The GGUF tag, as written (matching is case-insensitive).
    public let tag: String?
    /// The branch, tag or commit, if one was given.
    public let revision: String?

    /// The revision to resolve: the given one, or `main`.
    public var effectiveRevision: String { revision ?? "main" }

    /// `owner/name`.
    public var repo: String { "\(owner)/\(name)" }

    /// The name in the canonical form `owner/name[:TAG][@revision]`.
    public var description: String {
        var text = repo
        if let tag { text += ":\(tag)" }
        if let revision { text += "@\(revision)" }
        return text
    }

    /// Parses and validates a name. Throws ``HubError/invalidName(_:reason:)``.
    public init(_ text: String) throws {
        func fail(_ reason: String) -> HubError { .invalidName(text, reason: reason) }
        guard !text.isEmpty, text.utf8.count <= 512 else { throw fail("empty or too long") }
        var base = Substring(text)
        var revision: Substring?
        var tag: Substring?
        if let at = base.firstIndex(of: "@") {
            revision = base[base.index(after: at)...]
            base = base[..<at]
            // `owner/name@rev:TAG`: a git ref cannot contain ':', so a colon here starts the tag.
            if let rev = revision, let colon = rev.firstIndex(of: ":") {
                tag = rev[rev.index(after: colon)...]
                revision = rev[..<colon]
            }
        }
        if let colon = base.firstIndex(of: ":") {
            guard tag == nil else { throw fail("two tags") }
            tag = base[base.index(after: colon)...]
            base = base[..<colon]
        }
        let parts = base.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw fail("the repository must be owner/name") }
        if let problem = Self.repoPartProblem(parts[0]) { throw fail("owner: \(problem)") }
        if let problem = Self.repoPartProblem(parts[1]) { throw fail("name: \(problem)") }
        if let tag {
            guard !tag.isEmpty, tag.utf8.count <= 64,
                tag.unicodeScalars.allSatisfy({ Self.isWordScalar($0) || $0 == "-" || $0 == "." })
            else { throw fail("a tag is letters, digits, '_', '-' and '.'") }
        }
        if let revision, let problem = Self.revisionProblem(revision) { throw fail("revision: \(problem)") }
        self.owner = String(parts[0])
        self.name = String(parts[1])
        self.tag = tag.map(String.init)
        self.revision = revision.map(String.init)
    }

    /// A name built from its parts (validated like a parsed one).
    public init(repo: String, tag: String? = nil, revision: String? = nil) throws {
        var text = repo
        if let tag { text += ":\(tag)" }
        if let revision { text += "@\(revision)" }
        try self.init(text)
    }

    /// Whether `text` looks like a Hub id rather than a file path or a built-in alias: exactly one
    /// `/`, no leading `/` or `.`, and it parses.
    public static func looksLikeHubID(_ text: String) -> Bool {
        guard !text.hasPrefix("/"), !text.hasPrefix("."), !text.hasPrefix("~") else { return false }
        return (try? ModelName(text)) != nil
    }

    static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") || (s >= "0" && s <= "9") || s == "_"
    }

    /// Why `part` is not a valid owner or repository name, or nil.
    static func repoPartProblem(_ part: Substring) -> String? {
        if part.isEmpty { return "empty" }
        if part.utf8.count > 96 { return "longer than 96 characters" }
        if !part.unicodeScalars.allSatisfy({ isWordScalar($0) || $0 == "-" || $0 == "." }) {
            return "only letters, digits, '-', '_' and '.' are allowed"
        }
        if part.contains("--") || part.contains("..") { return "'--' and '..' are not allowed" }
        if let first = part.unicodeScalars.first, let last = part.unicodeScalars.last,
            !isWordScalar(first) || !isWordScalar(last)
        {
            return "must start and end with a letter, digit or '_'"
        }
        return nil
    }

    /// Why `revision` is not a safe branch, tag or commit name, or nil. Revisions become paths under
    /// `refs/`, so a component can never be `.` or `..`.
    static func revisionProblem(_ revision: Substring) -> String? {
        if revision.isEmpty { return "empty" }
        if revision.utf8.count > 255 { return "longer than 255 characters" }
        if !revision.unicodeScalars.allSatisfy({ isWordScalar($0) || $0 == "-" || $0 == "." || $0 == "/" }) {
            return "only letters, digits, '-', '_', '.' and '/' are allowed"
        }
        for component in revision.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty || component == "." || component == ".." || component.hasSuffix(".lock") {
                return "'\(component)' is not a valid ref component"
            }
        }
        return nil
    }
}

/// Checks a repository-relative file path before it is joined to a cache folder.
///
/// Rejects absolute paths, `..` and `.` components, empty components, backslashes and NUL: a
/// file list from a server (or a name) can never place a file outside its snapshot folder.
public func validateRepoPath(_ path: String) throws -> String {
    guard !path.isEmpty, path.utf8.count <= 1024, !path.hasPrefix("/"), !path.contains("\\"),
        !path.contains("\0")
    else { throw HubError.pathOutsideCache(path) }
    for component in path.split(separator: "/", omittingEmptySubsequences: false) {
        if component.isEmpty || component == "." || component == ".." { throw HubError.pathOutsideCache(path) }
    }
    return path
}

/// Whether `revision` is a full commit hash (40 lowercase hex digits).
func isCommitHash(_ revision: String) -> Bool {
    revision.utf8.count == 40 && revision.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
}
