import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The Hub cache, laid out exactly as Python's `huggingface_hub` lays it out, so that a file either
/// tool downloaded is found by the other:
///
/// ```
/// <root>/models--owner--name/blobs/<etag>                  the file's bytes
/// <root>/models--owner--name/blobs/<etag>.incomplete       a download in progress (resumable)
/// <root>/models--owner--name/snapshots/<commit>/<path>     relative symlink to ../../blobs/<etag>
/// <root>/models--owner--name/refs/<revision>               the commit a branch or tag pointed to
/// <root>/.locks/models--owner--name/<etag>.lock            held (flock) while the blob downloads
/// ```
public struct HubCache: Sendable, Equatable {
    /// The cache folder (`HF_HUB_CACHE`, `HF_HOME/hub`, or `~/.cache/huggingface/hub`).
    public let root: String

    /// A cache at `root`.
    public init(root: String) {
        var root = root
        while root.count > 1, root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    /// `HF_HUB_CACHE` (or the older `HUGGINGFACE_HUB_CACHE`), else `<HF_HOME>/hub`.
    public static func defaultRoot(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let cache = HubConfiguration.nonEmpty(environment["HF_HUB_CACHE"])
            ?? HubConfiguration.nonEmpty(environment["HUGGINGFACE_HUB_CACHE"])
        {
            return HubConfiguration.expandTilde(cache, environment: environment)
        }
        return HubConfiguration.hfHome(environment: environment) + "/hub"
    }

    /// `models--owner--name`.
    public static func folderName(repo: String) -> String {
        "models--" + repo.split(separator: "/").joined(separator: "--")
    }

    /// The repository `models--owner--name` stands for, or nil if `folder` is not a model folder.
    public static func repo(fromFolderName folder: String) -> String? {
        guard folder.hasPrefix("models--") else { return nil }
        let parts = folder.dropFirst("models--".count).components(separatedBy: "--")
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        return parts.joined(separator: "/")
    }

    /// The repository's folder.
    public func repoFolder(_ repo: String) -> String { root + "/" + Self.folderName(repo: repo) }
    func blobPath(_ repo: String, etag: String) -> String { repoFolder(repo) + "/blobs/" + etag }
    func incompletePath(_ repo: String, etag: String) -> String { blobPath(repo, etag: etag) + ".incomplete" }
    func lockPath(_ repo: String, etag: String) -> String {
        root + "/.locks/" + Self.folderName(repo: repo) + "/" + etag + ".lock"
    }
    /// The snapshot folder of `commit`.
    public func snapshotFolder(_ repo: String, commit: String) -> String { repoFolder(repo) + "/snapshots/" + commit }
    func refPath(_ repo: String, revision: String) -> String { repoFolder(repo) + "/refs/" + revision }

    /// The commit `revision` stands for in the cache: the revision itself if it is a commit hash,
    /// else the content of `refs/<revision>`. Never touches the network.
    public func commit(repo: String, revision: String) -> String? {
        if isCommitHash(revision) { return revision }
        guard ModelName.revisionProblem(Substring(revision)) == nil,
            let data = FileManager.default.contents(atPath: refPath(repo, revision: revision)), data.count < 256
        else { return nil }
        let commit = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return isCommitHash(commit) ? commit : nil
    }

    /// The cached path of `path` at `revision`, if the snapshot holds it (and its blob exists).
    public func cachedFile(repo: String, revision: String, path: String) -> String? {
        guard let commit = commit(repo: repo, revision: revision), (try? validateRepoPath(path)) != nil else { return nil }
        let file = snapshotFolder(repo, commit: commit) + "/" + path
        // `fileExists` follows the symlink: a dangling link (blob deleted) is not a cached file.
        return FileManager.default.fileExists(atPath: file) ? file : nil
    }

    /// The repository-relative paths of every file in a snapshot, sorted.
    public func snapshotFiles(repo: String, commit: String) -> [String] {
        let folder = snapshotFolder(repo, commit: commit)
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
        var files: [String] = []
        while let entry = enumerator.nextObject() as? String {
            let full = folder + "/" + entry
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(entry)
            }
        }
        return files.sorted()
    }

    /// Records that `revision` pointed to `commit` (`refs/<revision>`), as `huggingface_hub` does.
    func writeRef(repo: String, revision: String, commit: String) throws {
        guard revision != commit else { return }
        let path = refPath(repo, revision: revision)
        if let existing = FileManager.default.contents(atPath: path),
            String(decoding: existing, as: UTF8.self) == commit
        {
            return
        }
        try createFolder(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        try writeAtomically(Data(commit.utf8), to: path)
    }

    /// Points `snapshots/<commit>/<path>` at `blobs/<etag>` with a relative symlink.
    func link(repo: String, commit: String, path: String, etag: String) throws -> String {
        let pointer = snapshotFolder(repo, commit: commit) + "/" + path
        let depth = path.split(separator: "/").count - 1
        // From snapshots/<commit>/<dirs...>/ up to the repo folder, then into blobs.
        let target = String(repeating: "../", count: depth + 2) + "blobs/" + etag
        if let existing = try? FileManager.default.destinationOfSymbolicLink(atPath: pointer), existing == target {
            return pointer
        }
        try createFolder(URL(fileURLWithPath: pointer).deletingLastPathComponent().path)
        let temporary = pointer + ".sparrow-link-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard symlink(target, temporary) == 0 else { throw HubError.cache(path: pointer, message: errnoText()) }
        guard rename(temporary, pointer) == 0 else {
            let message = errnoText()
            unlink(temporary)
            throw HubError.cache(path: pointer, message: message)
        }
        return pointer
    }

    func createFolder(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw HubError.cache(path: path, message: error.localizedDescription)
        }
    }

    func writeAtomically(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw HubError.cache(path: path, message: error.localizedDescription)
        }
    }

    // MARK: - Listing and removing

    /// A model in the cache.
    public struct CachedRepo: Sendable, Equatable {
        /// `owner/name`.
        public var repo: String
        /// The repository's folder.
        public var folder: String
        /// Bytes of every blob (each counted once, however many snapshots link it).
        public var sizeOnDisk: Int64
        /// The cached commits, sorted.
        public var commits: [String]
        /// Each ref (branch or tag) and the commit it points to.
        public var refs: [String: String]
    }

    /// Every model repository in the cache, sorted by name.
    public func cachedRepos() -> [CachedRepo] {
        let fm = FileManager.default
        var repos: [CachedRepo] = []
        for entry in (try? fm.contentsOfDirectory(atPath: root)) ?? [] {
            guard let repo = Self.repo(fromFolderName: entry) else { continue }
            let folder = root + "/" + entry
            var size: Int64 = 0
            for blob in (try? fm.contentsOfDirectory(atPath: folder + "/blobs")) ?? [] {
                let attributes = try? fm.attributesOfItem(atPath: folder + "/blobs/" + blob)
                size += (attributes?[.size] as? NSNumber)?.int64Value ?? 0
            }
            let commits = ((try? fm.contentsOfDirectory(atPath: folder + "/snapshots")) ?? []).filter(isCommitHash).sorted()
            var refs: [String: String] = [:]
            if let enumerator = fm.enumerator(atPath: folder + "/refs") {
                while let ref = enumerator.nextObject() as? String {
                    if let commit = commit(repo: repo, revision: ref), !isCommitHash(ref) { refs[ref] = commit }
                }
            }
            repos.append(CachedRepo(repo: repo, folder: folder, sizeOnDisk: size, commits: commits, refs: refs))
        }
        return repos.sorted { $0.repo < $1.repo }
    }

    /// Deletes a repository's folder (blobs, snapshots, refs) and its lock files.
    /// - Throws: ``HubError/notCached(repo:)`` if it is not there.
    public func remove(repo: String) throws {
        let folder = repoFolder(repo)
        guard FileManager.default.fileExists(atPath: folder) else { throw HubError.notCached(repo: repo) }
        do {
            try FileManager.default.removeItem(atPath: folder)
        } catch {
            throw HubError.cache(path: folder, message: error.localizedDescription)
        }
        try? FileManager.default.removeItem(atPath: root + "/.locks/" + Self.folderName(repo: repo))
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }
