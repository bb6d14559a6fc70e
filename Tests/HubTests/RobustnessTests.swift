import Foundation
import Testing

@testable import HubClient

@Suite struct RobustnessTests {
    let repoName = "owner/model-GGUF"
    let sha256Name = "model-Q4_K_M.gguf"

    func repo(_ file: MockFile) -> [String: MockRepo] {
        [repoName: MockRepo(files: [sha256Name: file])]
    }

    @Test func resumesAfterADroppedConnection() async throws {
        var file = MockFile(bytes: bytes(10_000))
        file.drops = 1
        try await MockHub.with(repo(file)) { hub in
            try await TempCache.with { temp in
                let model = try await temp.client(hub).pull(ModelName(repoName))
                #expect(contents(model.modelPath) == bytes(10_000))
                let gets = hub.log.filter { $0.method == "GET" && $0.path.hasPrefix("/lfs/") }
                #expect(gets.count == 2)
                #expect(gets.first?.range == nil)
                // The mock sent half, then closed: the retry asks for the rest.
                #expect(gets.last?.range == "bytes=5000-")
                #expect(!FileManager.default.fileExists(
                    atPath: temp.root + "/models--owner--model-GGUF/blobs/\(file.sha256).incomplete"))
            }
        }
    }

    /// An `.incomplete` blob left by another run is resumed with `Range`; a server that ignores
    /// `Range` and sends the whole file instead gets it written from the start. Either way the blob
    /// is the file.
    @Test(arguments: [false, true])
    func resumesAnIncompleteFileLeftByAnotherRun(serverIgnoresRange: Bool) async throws {
        var file = MockFile(bytes: bytes(8_000))
        file.ignoresRange = serverIgnoresRange
        try await MockHub.with(repo(file)) { hub in
            try await TempCache.with { temp in
                let blobs = temp.root + "/models--owner--model-GGUF/blobs"
                try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
                try Data(bytes(8_000).prefix(3_000)).write(to: URL(fileURLWithPath: "\(blobs)/\(file.sha256).incomplete"))
                let model = try await temp.client(hub).pull(ModelName(repoName))
                #expect(contents(model.modelPath) == bytes(8_000))
                #expect(hub.log.filter { $0.path.hasPrefix("/lfs/") }.map(\.range) == ["bytes=3000-"])
            }
        }
    }

    @Test func aRenamedRepoIsFollowedByItsRelativeRedirect() async throws {
        var renamed = ggufRepo()
        renamed.renamedTo = ggufRepoName
        try await MockHub.with([ggufRepoName: ggufRepo(), "OldOwner/old-name": renamed]) { hub in
            try await TempCache.with { temp in
                let model = try await temp.client(hub).pull(ModelName("OldOwner/old-name:Q4_1"))
                #expect(contents(model.modelPath) == bytes(5000, seed: 2))
                // Cached under the name it was asked by, as huggingface_hub does.
                #expect(model.modelPath.contains("/models--OldOwner--old-name/snapshots/"))
                #expect(hub.count("HEAD", "/OldOwner/old-name/resolve/") == 1)
                #expect(hub.count("HEAD", "/\(ggufRepoName)/resolve/") == 1)
            }
        }
    }

    @Test func givesUpAfterTheRetriesAndKeepsThePartialFile() async throws {
        var file = MockFile(bytes: bytes(4_000))
        file.drops = 100
        try await MockHub.with(repo(file)) { hub in
            try await TempCache.with { temp in
                var client = temp.client(hub)
                client.configuration.retries = 2
                do {
                    _ = try await client.pull(ModelName(repoName))
                    Issue.record("expected an incomplete download")
                } catch let error as HubError {
                    guard case .incompleteDownload(let path, let received, let expected) = error else {
                        Issue.record("unexpected \(error)")
                        return
                    }
                    #expect(path == sha256Name && expected == 4_000 && received > 0 && received < 4_000)
                }
                #expect(hub.count("GET", "/lfs/") == 3)
                #expect(FileManager.default.fileExists(
                    atPath: temp.root + "/models--owner--model-GGUF/blobs/\(file.sha256).incomplete"))
            }
        }
    }

    @Test func sha256MismatchIsAnErrorAndLeavesNothing() async throws {
        var file = MockFile(bytes: bytes(2_000))
        let wrong = String(repeating: "0", count: 64)
        file.announcedSHA256 = wrong
        try await MockHub.with(repo(file)) { hub in
            try await TempCache.with { temp in
                await #expect(throws: HubError.checksumMismatch(path: sha256Name, expected: wrong, actual: file.sha256)) {
                    try await temp.client(hub).pull(ModelName(repoName))
                }
                let blobs = temp.root + "/models--owner--model-GGUF/blobs"
                #expect(((try? FileManager.default.contentsOfDirectory(atPath: blobs)) ?? []).isEmpty)
                #expect(!FileManager.default.fileExists(atPath: temp.root + "/models--owner--model-GGUF/snapshots"))
            }
        }
    }

    @Test func offlineUsesTheCacheAloneWithoutARequest() async throws {
        try await MockHub.with([ggufRepoName: ggufRepo()]) { hub in
            try await TempCache.with { temp in
                let online = try await temp.client(hub).pull(ModelName("\(ggufRepoName):Q4_1"))
                let requests = hub.log.count

                let offline = temp.client(hub, offline: true)
                let cached = try await offline.pull(ModelName("\(ggufRepoName):q4_1"))
                #expect(cached.modelPath == online.modelPath && cached.commit == online.commit)
                #expect(try await offline.downloadFile(repo: ggufRepoName, path: "SmolLM2-135M-Instruct-Q4_1.gguf")
                    == online.modelPath)
                // Not cached: a clear error, and still no request.
                await #expect(throws: HubError.offlineMissing(repo: ggufRepoName, revision: "main", path: "*Q8_0*.gguf")) {
                    try await offline.pull(ModelName("\(ggufRepoName):Q8_0"))
                }
                await #expect(throws: HubError.offlineMissing(repo: "other/repo", revision: "main", path: nil)) {
                    try await offline.pull(ModelName("other/repo"))
                }
                await #expect(throws: HubError.offlineMissing(repo: ggufRepoName, revision: "main", path: "README.md")) {
                    try await offline.downloadFile(repo: ggufRepoName, path: "README.md")
                }
                await #expect(throws: HubError.offlineMissing(repo: ggufRepoName, revision: "v2", path: nil)) {
                    try await offline.pull(ModelName("\(ggufRepoName)@v2"))
                }
                #expect(hub.log.count == requests)
            }
        }
    }

    @Test func unreachableHubFallsBackToTheCache() async throws {
        try await TempCache.with { temp in
            try await MockHub.with([ggufRepoName: ggufRepo()]) { hub in
                _ = try await temp.client(hub).pull(ModelName("\(ggufRepoName):Q4_1"))
            }
            // Port 9 (discard) has no listener here: the connection is refused.
            let model = try await temp.client(nil).pull(ModelName("\(ggufRepoName):Q4_1"))
            #expect(contents(model.modelPath) == bytes(5000, seed: 2))
            await #expect(throws: HubError.self) { try await temp.client(nil).pull(ModelName("\(ggufRepoName):Q8_0")) }
        }
    }

    @Test func concurrentPullsDownloadOnce() async throws {
        var file = MockFile(bytes: bytes(64_000))
        file.pieceDelayMilliseconds = 25
        try await MockHub.with(repo(file)) { hub in
            try await TempCache.with { temp in
                // Four pulls: two through one client value, two through others (as separate
                // processes would, each opening the lock file itself).
                let name = try ModelName(repoName)
                let clients = [temp.client(hub), temp.client(hub), temp.client(hub), temp.client(hub)]
                let paths = try await withThrowingTaskGroup(of: String.self) { group in
                    for client in clients { group.addTask { try await client.pull(name).modelPath } }
                    var paths: [String] = []
                    for try await path in group { paths.append(path) }
                    return paths
                }
                #expect(Set(paths).count == 1)
                #expect(paths.allSatisfy { contents($0) == bytes(64_000) })
                #expect(hub.count("GET", "/lfs/") == 1)
                #expect(hub.count("HEAD", "/resolve/") == 4)
            }
        }
    }

    @Test func aHeldLockMakesThePullWait() async throws {
        let file = MockFile(bytes: bytes(1_000))
        try await MockHub.with(repo(file)) { hub in
            try await TempCache.with { temp in
                // Another process (here: this test) holds the blob's lock.
                let lockPath = temp.root + "/.locks/models--owner--model-GGUF/\(file.sha256).lock"
                let lock = try await FileLock.acquire(path: lockPath, pollInterval: .milliseconds(5))
                let client = temp.client(hub)
                let pull = Task { try await client.pull(ModelName(repoName)) }
                #expect(await TestWait.until { hub.count("HEAD", "/resolve/") == 1 })
                try await Task.sleep(for: .milliseconds(200))
                #expect(hub.count("GET", "/lfs/") == 0)
                lock.unlock()
                let model = try await pull.value
                #expect(contents(model.modelPath) == bytes(1_000))
                #expect(hub.count("GET", "/lfs/") == 1)
            }
        }
    }

    @Test func gatedRepoNeedsTheBearerToken() async throws {
        var repos = repo(MockFile(bytes: bytes(500)))
        repos[repoName]?.gated = true
        try await MockHub.with(repos) { hub in
            try await TempCache.with { temp in
                await #expect(throws: HubError.gated(repo: repoName)) {
                    try await temp.client(hub).pull(ModelName(repoName))
                }
                await #expect(throws: HubError.gated(repo: repoName)) {
                    try await temp.client(hub, token: "hf_wrong").pull(ModelName(repoName))
                }
                let model = try await temp.client(hub, token: MockHub.goodToken).pull(ModelName(repoName))
                #expect(contents(model.modelPath) == bytes(500))
                let authorized = hub.log.filter { $0.authorization == "Bearer \(MockHub.goodToken)" }
                #expect(authorized.contains { $0.path.hasPrefix("/api/models/") })
                #expect(authorized.contains { $0.method == "HEAD" && $0.path.contains("/resolve/") })
                // The LFS redirect goes to another host name: the token stays with the Hub.
                #expect(hub.log.filter { $0.path.hasPrefix("/lfs/") }.allSatisfy { $0.authorization == nil })
                #expect(hub.count("GET", "/lfs/") == 1)
            }
        }
    }

    @Test func tokenFileUnderHFHomeIsSent() async throws {
        try await MockHub.with(repo(MockFile(bytes: bytes(300)))) { hub in
            try await TempCache.with { temp in
                try Data("hf_file_token\n".utf8).write(to: URL(fileURLWithPath: temp.folder + "/token"))
                let client = HubClient(configuration: .fromEnvironment(["HF_HOME": temp.folder, "HF_ENDPOINT": hub.endpoint]))
                #expect(client.configuration.cache.root == temp.root)
                _ = try await client.pull(ModelName(repoName))
                #expect(hub.log.first?.authorization == "Bearer hf_file_token")
            }
        }
    }

    @Test func missingRepoAndFile() async throws {
        try await MockHub.with(repo(MockFile(bytes: bytes(300)))) { hub in
            try await TempCache.with { temp in
                await #expect(throws: HubError.repoNotFound(repo: "nobody/nothing")) {
                    try await temp.client(hub).pull(ModelName("nobody/nothing"))
                }
                await #expect(throws: HubError.fileNotFound(repo: repoName, path: "missing.gguf")) {
                    try await temp.client(hub).downloadFile(repo: repoName, path: "missing.gguf")
                }
            }
        }
    }

    @Test func redirectLoopIsCapped() async throws {
        var repos = repo(MockFile(bytes: bytes(300)))
        repos[repoName]?.redirectLoop = true
        try await MockHub.with(repos) { hub in
            try await TempCache.with { temp in
                let client = temp.client(hub)
                do {
                    _ = try await client.pull(ModelName(repoName))
                    Issue.record("expected tooManyRedirects")
                } catch HubError.tooManyRedirects(_, let limit) {
                    #expect(limit == client.configuration.maxRedirects)
                }
                #expect(hub.count("HEAD", "/resolve/") == client.configuration.maxRedirects + 1)
            }
        }
    }

    @Test func lyingContentLengthIsRejected() async throws {
        var file = MockFile(bytes: bytes(1_000))
        file.lyingContentLength = 999_999
        _ = try await MockHub.with(repo(file)) { hub in
            try await TempCache.with { temp in
                await #expect(throws: HubError.sizeMismatch(path: sha256Name, expected: 1_000, actual: 999_999)) {
                    try await temp.client(hub).pull(ModelName(repoName))
                }
            }
        }
    }

    @Test func oversizedFileIsRefusedBeforeDownloading() async throws {
        try await MockHub.with(repo(MockFile(bytes: bytes(5_000)))) { hub in
            try await TempCache.with { temp in
                var client = temp.client(hub)
                client.configuration.maxFileSize = 4_096
                await #expect(throws: HubError.fileTooLarge(path: sha256Name, size: 5_000, limit: 4_096)) {
                    try await client.pull(ModelName(repoName))
                }
                #expect(hub.count("GET", "/lfs/") == 0)
            }
        }
    }

    @Test func unsafeNamesFromTheServerWriteNothingOutsideTheCache() async throws {
        var evilEtag = MockFile("payload")
        evilEtag.announcedEtag = "../../../../escaped"
        let repos = [
            "evil/list": MockRepo(files: ["../../escaped.gguf": MockFile(bytes: bytes(10)), "ok-Q4_K_M.gguf": MockFile(bytes: bytes(10))]),
            "evil/etag": MockRepo(files: ["model-Q4_K_M.gguf": evilEtag]),
        ]
        try await MockHub.with(repos) { hub in
            try await TempCache.with { temp in
                await #expect(throws: HubError.pathOutsideCache("../../escaped.gguf")) {
                    try await temp.client(hub).pull(ModelName("evil/list"))
                }
                await #expect(throws: HubError.pathOutsideCache("../../../../escaped")) {
                    try await temp.client(hub).pull(ModelName("evil/etag"))
                }
                await #expect(throws: HubError.self) {
                    try await temp.client(hub).downloadFile(repo: "evil/list", path: "../../escaped.gguf")
                }
                await #expect(throws: HubError.self) { try await temp.client(hub).pull(ModelName("evil/../list")) }
                #expect(!temp.allEntries().contains { $0.contains("escaped") })
                #expect(temp.allEntries().allSatisfy { $0 == "hub" || $0.hasPrefix("hub/") })
            }
        }
    }

    @Test func listAndRemove() async throws {
        try await MockHub.with([ggufRepoName: ggufRepo()]) { hub in
            try await TempCache.with { temp in
                let client = temp.client(hub)
                _ = try await client.pull(ModelName("\(ggufRepoName):Q4_1"))
                let cache = client.configuration.cache
                let listed = cache.cachedRepos()
                #expect(listed.count == 1)
                #expect(listed.first?.repo == ggufRepoName && listed.first?.sizeOnDisk == 5000)
                #expect(listed.first?.commits == [MockHub.commit(1)] && listed.first?.refs == ["main": MockHub.commit(1)])
                try cache.remove(repo: ggufRepoName)
                #expect(cache.cachedRepos().isEmpty)
                #expect(throws: HubError.notCached(repo: ggufRepoName)) { try cache.remove(repo: ggufRepoName) }
            }
        }
    }
}
