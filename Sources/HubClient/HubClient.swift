import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Progress of one file's download, reported as bytes arrive.
public struct DownloadProgress: Sendable, Equatable {
    /// `owner/name`.
    public var repo: String
    /// The file's path in the repository.
    public var path: String
    /// Which file of the pull this is (0-based).
    public var fileIndex: Int
    /// How many files the pull fetches.
    public var fileCount: Int
    /// Bytes on disk so far, including a resumed download's earlier part.
    public var completedBytes: Int64
    /// The file's size, when the Hub announced it.
    public var totalBytes: Int64?
    /// Bytes this run started from (a resumed `.incomplete` file), for rate estimates.
    public var resumedFrom: Int64
}

/// A model in the cache, ready to load.
public struct PulledModel: Sendable, Equatable {
    /// The name it was pulled by.
    public var name: ModelName
    /// The commit the files come from.
    public var commit: String
    /// `snapshots/<commit>` in the cache.
    public var snapshotFolder: String
    /// GGUF or a safetensors directory.
    public var kind: ModelFiles.Kind
    /// The repository paths that make up the model, sorted.
    public var files: [String]
    /// What to load: the (first) GGUF file, or the snapshot folder for a safetensors checkpoint.
    public var modelPath: String
}

/// A client of the Hugging Face Hub that downloads models into `huggingface_hub`'s cache.
///
/// ```swift
/// let hub = HubClient()  // HF_ENDPOINT, HF_HUB_CACHE, HF_TOKEN, HF_HUB_OFFLINE
/// let model = try await hub.pull(ModelName("bartowski/SmolLM2-135M-Instruct-GGUF:Q4_1"))
/// print(model.modelPath)
/// ```
///
/// Each call opens its own HTTP client and shuts it down before returning. Downloads stream to
/// disk; a blob is downloaded once however many tasks or processes ask for it at the same time
/// (they wait on `flock`), and a dropped connection resumes with `Range`.
public struct HubClient: Sendable {
    /// Endpoint, cache, token, offline mode and limits.
    public var configuration: HubConfiguration

    /// A client configured from the environment, like `huggingface_hub`.
    public init(configuration: HubConfiguration = .fromEnvironment()) {
        self.configuration = configuration
    }

    var cache: HubCache { configuration.cache }

    // MARK: - Models

    /// Resolves `name` against the Hub and downloads what is missing from the cache.
    ///
    /// Offline (`HF_HUB_OFFLINE=1`), only the cache is read, with no network call. Online, when the
    /// Hub cannot be reached, a cached copy of the revision is used if there is one.
    public func pull(_ name: ModelName, progress: (@Sendable (DownloadProgress) -> Void)? = nil) async throws
        -> PulledModel
    {
        if configuration.offline { return try cached(name) }
        return try await withHTTP { http in
            let info: RepoInfo
            do {
                info = try await repoInfo(http: http, repo: name.repo, revision: name.effectiveRevision)
            } catch let error as HubError {
                if case .network = error, let model = try? cached(name) { return model }
                throw error
            }
            let selection = try ModelFiles.select(for: name, from: info.files)
            let available = Set(info.files)
            var files = selection.files
            var fetched: [String] = []
            func fetch(_ batch: [String], total: Int) async throws {
                for path in batch {
                    _ = try await downloadFile(
                        http: http, repo: name.repo, revision: info.commit, path: path, index: fetched.count,
                        count: total, progress: progress)
                    fetched.append(path)
                }
            }
            if let index = selection.index {
                // The index first: it names the weights.
                try await fetch([index], total: files.count)
                let weights = try readIndex(repo: name.repo, commit: info.commit, index: index)
                for weight in weights where !available.contains(weight) {
                    throw HubError.fileNotFound(repo: name.repo, path: weight)
                }
                files = (files + weights).sorted()
                try await fetch(files.filter { $0 != index }, total: files.count)
            } else {
                try await fetch(files, total: files.count)
            }
            try cache.writeRef(repo: name.repo, revision: name.effectiveRevision, commit: info.commit)
            return model(name, commit: info.commit, kind: selection.kind, files: files)
        }
    }

    /// The model `name` stands for, from the cache alone (never a network call).
    /// - Throws: ``HubError/offlineMissing(repo:revision:path:)`` when the revision or a file is not cached.
    public func cached(_ name: ModelName) throws -> PulledModel {
        let revision = name.effectiveRevision
        guard let commit = cache.commit(repo: name.repo, revision: revision) else {
            throw HubError.offlineMissing(repo: name.repo, revision: revision, path: nil)
        }
        let present = cache.snapshotFiles(repo: name.repo, commit: commit)
        guard !present.isEmpty else { throw HubError.offlineMissing(repo: name.repo, revision: revision, path: nil) }
        let selection: ModelFiles
        do {
            selection = try ModelFiles.select(for: name, from: present)
        } catch HubError.tagNotFound(_, let tag, _) {
            // The cache holds only part of the repository: the file may well exist on the Hub.
            let pattern = "*\(tag ?? ModelFiles.defaultTag)*.gguf"
            throw HubError.offlineMissing(repo: name.repo, revision: revision, path: pattern)
        }
        var files = selection.files
        if let index = selection.index {
            files = (files + (try readIndex(repo: name.repo, commit: commit, index: index))).sorted()
        }
        for file in files where cache.cachedFile(repo: name.repo, revision: commit, path: file) == nil {
            throw HubError.offlineMissing(repo: name.repo, revision: revision, path: file)
        }
        return model(name, commit: commit, kind: selection.kind, files: files)
    }

    private func model(_ name: ModelName, commit: String, kind: ModelFiles.Kind, files: [String]) -> PulledModel {
        let folder = cache.snapshotFolder(name.repo, commit: commit)
        let modelPath = kind == .gguf ? folder + "/" + (files.first ?? "") : folder
        return PulledModel(
            name: name, commit: commit, snapshotFolder: folder, kind: kind, files: files, modelPath: modelPath)
    }

    private func readIndex(repo: String, commit: String, index: String) throws -> [String] {
        let path = cache.snapshotFolder(repo, commit: commit) + "/" + index
        guard let size = fileSize(path), size <= 64 << 20, let data = FileManager.default.contents(atPath: path) else {
            throw HubError.cache(path: path, message: "missing or larger than 64 MiB")
        }
        return try ModelFiles.weights(fromIndex: Array(data), indexPath: path)
    }

    // MARK: - Repository information

    /// A repository's commit and file list at a revision.
    public struct RepoInfo: Sendable, Equatable {
        /// The commit the revision resolves to.
        public var commit: String
        /// Every file's path in the repository.
        public var files: [String]
    }

    /// `GET /api/models/{repo}/revision/{revision}`: the commit and file list.
    public func repoInfo(repo: String, revision: String) async throws -> RepoInfo {
        guard !configuration.offline else { throw HubError.offlineMissing(repo: repo, revision: revision, path: nil) }
        return try await withHTTP { try await repoInfo(http: $0, repo: repo, revision: revision) }
    }

    func repoInfo(http: HTTPClient, repo: String, revision: String) async throws -> RepoInfo {
        _ = try ModelName(repo: repo, revision: revision)
        let url = configuration.endpoint + "/api/models/" + repo + "/revision/" + Self.encodeSegment(revision)
        var location = url
        for _ in 0...configuration.maxRedirects {
            let response = try await send(http, method: .GET, url: location)
            let status = Int(response.status.code)
            if (300..<400).contains(status) {
                location = try redirectTarget(response, from: location)
                continue
            }
            guard status == 200 else {
                throw Self.error(status: status, headers: response.headers, repo: repo, revision: revision, path: nil,
                                 tokenSent: sendsToken(to: location), url: location)
            }
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: 16 << 20)
            } catch {
                throw HubError.invalidResponse(url: url, reason: "file list unreadable or over 16 MiB: \(error)")
            }
            struct Sibling: Decodable { var rfilename: String }
            struct Info: Decodable { var sha: String?; var siblings: [Sibling]? }
            guard let info = try? JSONDecoder().decode(Info.self, from: Data(body.readableBytesView)) else {
                throw HubError.invalidResponse(url: url, reason: "not a model info JSON")
            }
            guard let commit = info.sha, isCommitHash(commit) else {
                throw HubError.invalidResponse(url: url, reason: "no commit hash ('sha')")
            }
            let files = (info.siblings ?? []).map(\.rfilename)
            for file in files { _ = try validateRepoPath(file) }
            return RepoInfo(commit: commit, files: files)
        }
        throw HubError.tooManyRedirects(url: url, limit: configuration.maxRedirects)
    }

    // MARK: - Files

    /// The Hub's metadata for one file, as `huggingface_hub.get_hf_file_metadata` reads it.
    public struct FileMetadata: Sendable, Equatable {
        /// `X-Repo-Commit`.
        public var commit: String
        /// `X-Linked-Etag` (LFS files: their sha256), else `ETag` (the git blob id), unquoted.
        public var etag: String
        /// `X-Linked-Size`, else `Content-Length`.
        public var size: Int64?
        /// Where the bytes are: the redirect target (a CDN, for LFS files), else the resolve URL.
        public var downloadURL: String
    }

    /// Downloads one file (unless cached) and returns its path in the snapshot.
    public func downloadFile(
        repo: String, revision: String = "main", path: String,
        progress: (@Sendable (DownloadProgress) -> Void)? = nil
    ) async throws -> String {
        _ = try ModelName(repo: repo, revision: revision)
        _ = try validateRepoPath(path)
        if configuration.offline {
            guard let file = cache.cachedFile(repo: repo, revision: revision, path: path) else {
                throw HubError.offlineMissing(repo: repo, revision: revision, path: path)
            }
            return file
        }
        return try await withHTTP { http in
            try await downloadFile(
                http: http, repo: repo, revision: revision, path: path, index: 0, count: 1, progress: progress)
        }
    }

    func downloadFile(
        http: HTTPClient, repo: String, revision: String, path: String, index: Int, count: Int,
        progress: (@Sendable (DownloadProgress) -> Void)?
    ) async throws -> String {
        _ = try validateRepoPath(path)
        // A commit's snapshot never changes: a file already there needs no request.
        if isCommitHash(revision), let file = cache.cachedFile(repo: repo, revision: revision, path: path) {
            return file
        }
        let metadata = try await fileMetadata(http: http, repo: repo, revision: revision, path: path)
        if !isCommitHash(revision) { try cache.writeRef(repo: repo, revision: revision, commit: metadata.commit) }
        if let size = metadata.size, size > configuration.maxFileSize {
            throw HubError.fileTooLarge(path: path, size: size, limit: configuration.maxFileSize)
        }
        let blob = cache.blobPath(repo, etag: metadata.etag)
        if FileManager.default.fileExists(atPath: blob) {
            return try cache.link(repo: repo, commit: metadata.commit, path: path, etag: metadata.etag)
        }
        try cache.createFolder(cache.repoFolder(repo) + "/blobs")
        let lock = try await FileLock.acquire(
            path: cache.lockPath(repo, etag: metadata.etag), pollInterval: configuration.lockPollInterval)
        defer { lock.unlock() }
        // Another task or process may have finished it while this one waited.
        if !FileManager.default.fileExists(atPath: blob) {
            try await downloadBlob(
                http: http, metadata: metadata, repo: repo, path: path, index: index, count: count, progress: progress)
        }
        return try cache.link(repo: repo, commit: metadata.commit, path: path, etag: metadata.etag)
    }

    /// `HEAD /{repo}/resolve/{revision}/{path}`, following relative redirects (a renamed repository)
    /// and stopping at the first absolute one (the CDN), whose headers carry the file's metadata.
    public func fileMetadata(repo: String, revision: String, path: String) async throws -> FileMetadata {
        guard !configuration.offline else { throw HubError.offlineMissing(repo: repo, revision: revision, path: path) }
        return try await withHTTP { try await fileMetadata(http: $0, repo: repo, revision: revision, path: path) }
    }

    func fileMetadata(http: HTTPClient, repo: String, revision: String, path: String) async throws -> FileMetadata {
        let start = resolveURL(repo: repo, revision: revision, path: path)
        var url = start
        for _ in 0...configuration.maxRedirects {
            let response = try await send(http, method: .HEAD, url: url)
            let status = Int(response.status.code)
            var downloadURL = url
            if (300..<400).contains(status) {
                let location = response.headers.first(name: "location")
                if let location, location.hasPrefix("/"), !location.hasPrefix("//") {
                    url = try redirectTarget(response, from: url)
                    continue
                }
                downloadURL = try redirectTarget(response, from: url)
            } else if status != 200 {
                throw Self.error(status: status, headers: response.headers, repo: repo, revision: revision, path: path,
                                 tokenSent: sendsToken(to: url), url: url)
            }
            let headers = response.headers
            guard let commit = headers.first(name: "x-repo-commit"), isCommitHash(commit) else {
                throw HubError.invalidResponse(url: url, reason: "no commit hash in X-Repo-Commit")
            }
            guard let rawEtag = headers.first(name: "x-linked-etag") ?? headers.first(name: "etag") else {
                throw HubError.invalidResponse(url: url, reason: "no ETag")
            }
            let etag = Self.normalizeEtag(rawEtag)
            // The etag names the blob file: one safe path component.
            guard !etag.isEmpty, etag.utf8.count <= 128,
                etag.unicodeScalars.allSatisfy({ ModelName.isWordScalar($0) || $0 == "-" || $0 == "." }),
                etag != ".", etag != "..", !etag.hasPrefix(".")
            else { throw HubError.pathOutsideCache(etag) }
            let sizeText = headers.first(name: "x-linked-size") ?? headers.first(name: "content-length")
            var size: Int64?
            if let sizeText {
                guard let value = Int64(sizeText.trimmingCharacters(in: .whitespaces)), value >= 0 else {
                    throw HubError.invalidResponse(url: url, reason: "invalid size '\(sizeText)'")
                }
                size = value
            }
            return FileMetadata(commit: commit, etag: etag, size: size, downloadURL: downloadURL)
        }
        throw HubError.tooManyRedirects(url: start, limit: configuration.maxRedirects)
    }

    /// A download that stopped early and can resume.
    private struct Interrupted: Error {
        var message: String
    }

    private func downloadBlob(
        http: HTTPClient, metadata: FileMetadata, repo: String, path: String, index: Int, count: Int,
        progress: (@Sendable (DownloadProgress) -> Void)?
    ) async throws {
        let incomplete = cache.incompletePath(repo, etag: metadata.etag)
        var failures = 0
        while true {
            do {
                try await fetch(
                    http: http, metadata: metadata, into: incomplete, repo: repo, path: path, index: index,
                    count: count, progress: progress)
                break
            } catch is Interrupted {
                failures += 1
                if failures > configuration.retries || Task.isCancelled {
                    throw HubError.incompleteDownload(
                        path: path, received: fileSize(incomplete) ?? 0, expected: metadata.size ?? -1)
                }
                try await Task.sleep(for: configuration.retryDelay)
            }
        }
        if metadata.etag.utf8.count == 64, metadata.etag.utf8.allSatisfy({ isHex($0) }) {
            // An LFS file: its etag is its sha256.
            let actual = try sha256Hex(ofFile: incomplete)
            if actual != metadata.etag.lowercased() {
                unlink(incomplete)
                throw HubError.checksumMismatch(path: path, expected: metadata.etag, actual: actual)
            }
        }
        guard rename(incomplete, cache.blobPath(repo, etag: metadata.etag)) == 0 else {
            throw HubError.cache(path: incomplete, message: errnoText())
        }
    }

    /// One GET of the rest of the file, appended to `incomplete`.
    private func fetch(
        http: HTTPClient, metadata: FileMetadata, into incomplete: String, repo: String, path: String,
        index: Int, count: Int, progress: (@Sendable (DownloadProgress) -> Void)?
    ) async throws {
        let expected = metadata.size
        var start = fileSize(incomplete) ?? 0
        if expected == nil || start > (expected ?? 0) { start = 0 }
        if let expected, start == expected, start > 0 { return }
        var url = metadata.downloadURL
        var redirects = 0
        while true {
            var headers: [(String, String)] = []
            if start > 0 { headers.append(("Range", "bytes=\(start)-")) }
            let response: HTTPClientResponse
            do {
                response = try await send(http, method: .GET, url: url, headers: headers)
            } catch HubError.network(_, let message) {
                throw Interrupted(message: message)
            }
            let status = Int(response.status.code)
            if (300..<400).contains(status) {
                redirects += 1
                guard redirects <= configuration.maxRedirects else {
                    throw HubError.tooManyRedirects(url: metadata.downloadURL, limit: configuration.maxRedirects)
                }
                url = try redirectTarget(response, from: url)
                continue
            }
            var truncate = start == 0
            switch status {
            case 200:
                // The server ignored the range: start over.
                start = 0
                truncate = true
            case 206:
                let range = response.headers.first(name: "content-range") ?? ""
                guard range.hasPrefix("bytes \(start)-") else {
                    throw HubError.invalidResponse(url: url, reason: "Content-Range '\(range)' does not start at \(start)")
                }
            case 416:
                // Nothing left to send, or a stale partial file: start over next time.
                unlink(incomplete)
                throw Interrupted(message: "range not satisfiable")
            default:
                throw Self.error(status: status, headers: response.headers, repo: repo, revision: metadata.commit,
                                 path: path, tokenSent: sendsToken(to: url), url: url)
            }
            if let lengthText = response.headers.first(name: "content-length") {
                guard let length = Int64(lengthText), length >= 0 else {
                    throw HubError.invalidResponse(url: url, reason: "invalid Content-Length '\(lengthText)'")
                }
                if let expected, start + length != expected {
                    throw HubError.sizeMismatch(path: path, expected: expected, actual: start + length)
                }
                if start + length > configuration.maxFileSize {
                    throw HubError.fileTooLarge(path: path, size: start + length, limit: configuration.maxFileSize)
                }
            }
            let file = try AppendFile(path: incomplete, truncate: truncate)
            var received = start
            let limit = expected ?? configuration.maxFileSize
            var report = DownloadProgress(
                repo: repo, path: path, fileIndex: index, fileCount: count, completedBytes: start,
                totalBytes: expected, resumedFrom: start)
            progress?(report)
            do {
                for try await buffer in response.body {
                    let total = received + Int64(buffer.readableBytes)
                    if total > limit {
                        if expected != nil { throw HubError.sizeMismatch(path: path, expected: limit, actual: total) }
                        throw HubError.fileTooLarge(path: path, size: total, limit: limit)
                    }
                    try buffer.withUnsafeReadableBytes { try file.write($0) }
                    received = total
                    report.completedBytes = received
                    progress?(report)
                }
            } catch let error as HubError {
                if case .sizeMismatch = error { unlink(incomplete) }
                throw error
            } catch let error as CancellationError {
                throw error
            } catch {
                throw Interrupted(message: "\(error)")
            }
            if let expected, received < expected {
                throw Interrupted(message: "connection closed at \(received) of \(expected) bytes")
            }
            return
        }
    }

    // MARK: - HTTP

    /// Runs `body` with an HTTP client that follows no redirect by itself, then shuts it down.
    func withHTTP<T: Sendable>(_ body: (HTTPClient) async throws -> T) async throws -> T {
        var http = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(
                connect: .nanoseconds(Int64(configuration.connectTimeout.nanoseconds)),
                read: .nanoseconds(Int64(configuration.readTimeout.nanoseconds))),
            decompression: .disabled)
        http.httpVersion = .http1Only
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
        do {
            let result = try await body(client)
            try? await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    func send(
        _ http: HTTPClient, method: HTTPMethod, url: String, headers: [(String, String)] = []
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "User-Agent", value: "sparrow-hub/1")
        request.headers.add(name: "Accept-Encoding", value: "identity")
        if sendsToken(to: url), let token = configuration.token {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        do {
            // The deadline bounds the whole response, body included; the read timeout catches stalls.
            return try await http.execute(request, timeout: .hours(24 * 7))
        } catch let error as CancellationError {
            throw error
        } catch {
            throw HubError.network(url: url, message: "\(error)")
        }
    }

    /// The token goes to the endpoint's own scheme, host and port only.
    func sendsToken(to url: String) -> Bool {
        guard let target = URLComponents(string: url), let endpoint = URLComponents(string: configuration.endpoint)
        else { return false }
        return target.scheme == endpoint.scheme && target.host == endpoint.host && target.port == endpoint.port
    }

    /// The absolute URL a 3xx response points to.
    func redirectTarget(_ response: HTTPClientResponse, from url: String) throws -> String {
        guard let location = response.headers.first(name: "location"), !location.isEmpty,
            let base = URL(string: url), let target = URL(string: location, relativeTo: base)?.absoluteURL,
            let scheme = target.scheme?.lowercased(), scheme == "http" || scheme == "https", target.host != nil
        else { throw HubError.invalidRedirect(url: url, location: response.headers.first(name: "location")) }
        return target.absoluteString
    }

    func resolveURL(repo: String, revision: String, path: String) -> String {
        let encodedPath = path.split(separator: "/").map { Self.encodeSegment(String($0)) }.joined(separator: "/")
        return configuration.endpoint + "/" + repo + "/resolve/" + Self.encodeSegment(revision) + "/" + encodedPath
    }

    /// Percent-encodes everything but unreserved characters (as Python's `quote(s, safe="")`).
    static func encodeSegment(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// `W/"abc"` → `abc`, as `huggingface_hub` normalizes etags.
    static func normalizeEtag(_ etag: String) -> String {
        var value = Substring(etag.trimmingCharacters(in: .whitespaces))
        if value.hasPrefix("W/") { value = value.dropFirst(2) }
        return String(value).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    /// The Hub's error for a status, preferring its `X-Error-Code`.
    static func error(
        status: Int, headers: HTTPHeaders, repo: String, revision: String, path: String?, tokenSent: Bool, url: String
    ) -> HubError {
        switch headers.first(name: "x-error-code") {
        case "GatedRepo": return .gated(repo: repo)
        case "RepoNotFound": return .repoNotFound(repo: repo)
        case "RevisionNotFound": return .revisionNotFound(repo: repo, revision: revision)
        case "EntryNotFound": return path.map { .fileNotFound(repo: repo, path: $0) } ?? .repoNotFound(repo: repo)
        default: break
        }
        switch status {
        case 401: return tokenSent ? .unauthorized(repo: repo) : .repoNotFound(repo: repo)
        case 403: return .gated(repo: repo)
        case 404: return path.map { .fileNotFound(repo: repo, path: $0) } ?? .repoNotFound(repo: repo)
        default: return .httpStatus(url: url, status: status)
        }
    }
}

private func isHex(_ byte: UInt8) -> Bool {
    (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 102) || (byte >= 65 && byte <= 70)
}

/// The sha256 of a file, read 1 MiB at a time.
func sha256Hex(ofFile path: String) throws -> String {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw HubError.cache(path: path, message: errnoText()) }
    defer { close(descriptor) }
    var hasher = SHA256()
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    while true {
        let count = read(descriptor, buffer.baseAddress, buffer.count)
        if count < 0 {
            if errno == EINTR { continue }
            throw HubError.cache(path: path, message: errnoText())
        }
        if count == 0 { break }
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
    }
    let digits = Array("0123456789abcdef".utf8)
    var hex: [UInt8] = []
    for byte in hasher.finalize() {
        hex.append(digits[Int(byte >> 4)])
        hex.append(digits[Int(byte & 15)])
    }
    return String(decoding: hex, as: UTF8.self)
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
