import Foundation
import Testing

@testable import HubClient

/// A temporary folder holding the cache (`<folder>/hub`), removed afterwards.
struct TempCache: Sendable {
    let folder: String
    var root: String { folder + "/hub" }

    static func with<T: Sendable>(_ body: (TempCache) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hub-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        return try await body(TempCache(folder: folder))
    }

    func client(_ hub: MockHub?, token: String? = nil, offline: Bool = false) -> HubClient {
        var configuration = HubConfiguration(
            endpoint: hub?.endpoint ?? "http://127.0.0.1:9", cache: HubCache(root: root), token: token, offline: offline)
        configuration.retryDelay = .milliseconds(10)
        configuration.lockPollInterval = .milliseconds(5)
        configuration.readTimeout = .seconds(120)
        // AsyncHTTPClient retries a refused connection until the connect timeout.
        configuration.connectTimeout = .milliseconds(500)
        return HubClient(configuration: configuration)
    }

    /// Every regular file and symlink under the temp folder, relative to it.
    func allEntries() -> [String] {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).sorted()
    }
}

func bytes(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
}

func contents(_ path: String) -> [UInt8]? {
    FileManager.default.contents(atPath: path).map { Array($0) }
}

let ggufRepoName = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"

func ggufRepo() -> MockRepo {
    MockRepo(files: [
        "README.md": MockFile("# readme"),
        "SmolLM2-135M-Instruct-Q4_K_M.gguf": MockFile(bytes: bytes(3000, seed: 1)),
        "SmolLM2-135M-Instruct-Q4_1.gguf": MockFile(bytes: bytes(5000, seed: 2)),
        "SmolLM2-135M-Instruct-Q8_0.gguf": MockFile(bytes: bytes(4000, seed: 3)),
    ])
}

@Suite struct PullTests {
    @Test func ggufTagDownloadsOneFileIntoTheHubLayout() async throws {
        try await MockHub.with([ggufRepoName: ggufRepo()]) { hub in
            try await TempCache.with { temp in
                let client = temp.client(hub)
                let model = try await client.pull(ModelName("\(ggufRepoName):q4_1"))
                let commit = MockHub.commit(1)
                #expect(model.kind == .gguf && model.commit == commit)
                #expect(model.files == ["SmolLM2-135M-Instruct-Q4_1.gguf"])
                #expect(contents(model.modelPath) == bytes(5000, seed: 2))

                // huggingface_hub's layout: blobs/<sha256>, a relative symlink, refs/main.
                let repoFolder = temp.root + "/models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF"
                let sha = MockFile(bytes: bytes(5000, seed: 2)).sha256
                #expect(model.modelPath == "\(repoFolder)/snapshots/\(commit)/SmolLM2-135M-Instruct-Q4_1.gguf")
                #expect(try FileManager.default.destinationOfSymbolicLink(atPath: model.modelPath) == "../../blobs/\(sha)")
                #expect(contents(repoFolder + "/refs/main") == Array(commit.utf8))
                #expect(FileManager.default.fileExists(atPath: temp.root + "/.locks/models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF/\(sha).lock"))
                // One file: the API call, one HEAD (a 302 to the LFS path), one GET of the bytes.
                #expect(hub.count("GET", "/api/models/") == 1)
                #expect(hub.count("HEAD", "/resolve/") == 1)
                #expect(hub.count("GET", "/lfs/") == 1)
                #expect(hub.count("GET", "/resolve/") == 0)

                // The second pull downloads nothing: the commit's snapshot already has the file.
                let again = try await client.pull(ModelName("\(ggufRepoName):Q4_1"))
                #expect(again == model || again.modelPath == model.modelPath)
                #expect(hub.count("GET", "/lfs/") == 1 && hub.count("HEAD", "/resolve/") == 1)
                #expect(hub.count("GET", "/api/models/") == 2)

                // Without a tag: Q4_K_M.
                let defaulted = try await client.pull(ModelName(ggufRepoName))
                #expect(defaulted.files == ["SmolLM2-135M-Instruct-Q4_K_M.gguf"])
                #expect(contents(defaulted.modelPath) == bytes(3000, seed: 1))
            }
        }
    }

    @Test func unknownTagListsChoices() async throws {
        try await MockHub.with([ggufRepoName: ggufRepo()]) { hub in
            try await TempCache.with { temp in
                await #expect(throws: HubError.tagNotFound(repo: ggufRepoName, tag: "IQ1_S", available: [
                    "SmolLM2-135M-Instruct-Q4_1.gguf", "SmolLM2-135M-Instruct-Q4_K_M.gguf",
                    "SmolLM2-135M-Instruct-Q8_0.gguf",
                ])) { try await temp.client(hub).pull(ModelName("\(ggufRepoName):IQ1_S")) }
                #expect(hub.count("HEAD", "/resolve/") == 0)
            }
        }
    }

    @Test func safetensorsDirectoryFetchesWhatALoadNeeds() async throws {
        let index = #"{"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}"#
        let repo = MockRepo(files: [
            "config.json": MockFile(#"{"model_type": "llama"}"#),
            "generation_config.json": MockFile("{}"),
            "tokenizer.json": MockFile(#"{"model": {}}"#),
            "tokenizer_config.json": MockFile("{}"),
            "special_tokens_map.json": MockFile("{}"),
            "model.safetensors.index.json": MockFile(index),
            "model-00001-of-00002.safetensors": MockFile(bytes: bytes(2048, seed: 4)),
            "model-00002-of-00002.safetensors": MockFile(bytes: bytes(1024, seed: 5)),
            "pytorch_model.bin": MockFile(bytes: bytes(64, seed: 6)),
            "README.md": MockFile("readme"),
            "original/params.json": MockFile("{}"),
        ])
        try await MockHub.with(["TinyLlama/TinyLlama-1.1B-Chat-v1.0": repo]) { hub in
            try await TempCache.with { temp in
                let model = try await temp.client(hub).pull(ModelName("TinyLlama/TinyLlama-1.1B-Chat-v1.0"))
                #expect(model.kind == .safetensors)
                #expect(model.modelPath == model.snapshotFolder)
                #expect(model.files == [
                    "config.json", "generation_config.json", "model-00001-of-00002.safetensors",
                    "model-00002-of-00002.safetensors", "model.safetensors.index.json", "special_tokens_map.json",
                    "tokenizer.json", "tokenizer_config.json",
                ])
                #expect(temp.client(hub).configuration.cache.snapshotFiles(
                    repo: "TinyLlama/TinyLlama-1.1B-Chat-v1.0", commit: model.commit) == model.files)
                #expect(contents(model.snapshotFolder + "/model-00002-of-00002.safetensors") == bytes(1024, seed: 5))
                #expect(hub.count("HEAD", "pytorch_model.bin") == 0 && hub.count("HEAD", "README") == 0)
                // Small files come straight from /resolve/ with their git blob id as the etag.
                let configBlob = MockFile(#"{"model_type": "llama"}"#).gitBlobID
                #expect(try FileManager.default.destinationOfSymbolicLink(atPath: model.snapshotFolder + "/config.json")
                    == "../../blobs/\(configBlob)")
            }
        }
    }

    @Test func revisionsResolveToTheirCommits() async throws {
        var repo = ggufRepo()
        let old = MockHub.commit(0xbeef)
        repo.commits[old] = ["model-Q4_K_M.gguf": MockFile(bytes: bytes(100, seed: 9))]
        repo.refs["v1.0"] = old
        try await MockHub.with([ggufRepoName: repo]) { hub in
            try await TempCache.with { temp in
                let client = temp.client(hub)
                let tagged = try await client.pull(ModelName("\(ggufRepoName)@v1.0"))
                #expect(tagged.commit == old && contents(tagged.modelPath) == bytes(100, seed: 9))
                #expect(contents(temp.root + "/models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF/refs/v1.0") == Array(old.utf8))

                let pinned = try await client.pull(ModelName("\(ggufRepoName):Q8_0@\(MockHub.commit(1))"))
                #expect(pinned.commit == MockHub.commit(1) && contents(pinned.modelPath) == bytes(4000, seed: 3))
                // A commit is not a ref: nothing is written under refs/ for it.
                #expect(!FileManager.default.fileExists(
                    atPath: temp.root + "/models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF/refs/\(MockHub.commit(1))"))

                await #expect(throws: HubError.revisionNotFound(repo: ggufRepoName, revision: "v9")) {
                    try await client.pull(ModelName("\(ggufRepoName)@v9"))
                }
                // Both commits are listed.
                let listed = client.configuration.cache.cachedRepos()
                #expect(listed.map(\.repo) == [ggufRepoName])
                #expect(listed.first?.commits == [MockHub.commit(1), old].sorted())
                #expect(listed.first?.refs == ["v1.0": old])
                #expect(listed.first?.sizeOnDisk == 4100)
            }
        }
    }

    @Test func singleFileDownloadByBranchWritesTheRef() async throws {
        try await MockHub.with([ggufRepoName: ggufRepo()]) { hub in
            try await TempCache.with { temp in
                let path = try await temp.client(hub).downloadFile(repo: ggufRepoName, path: "README.md")
                #expect(contents(path) == Array("# readme".utf8))
                #expect(temp.client(hub).configuration.cache.commit(repo: ggufRepoName, revision: "main") == MockHub.commit(1))
                await #expect(throws: HubError.fileNotFound(repo: ggufRepoName, path: "nope.txt")) {
                    try await temp.client(hub).downloadFile(repo: ggufRepoName, path: "nope.txt")
                }
            }
        }
    }
}
