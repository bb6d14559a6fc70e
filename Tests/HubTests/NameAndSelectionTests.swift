import Foundation
import Testing

@testable import HubClient

@Suite struct ModelNameTests {
    @Test func parsesRepoTagAndRevision() throws {
        let plain = try ModelName("TinyLlama/TinyLlama-1.1B-Chat-v1.0")
        #expect(plain.repo == "TinyLlama/TinyLlama-1.1B-Chat-v1.0")
        #expect(plain.tag == nil && plain.revision == nil && plain.effectiveRevision == "main")

        let full = try ModelName("bartowski/SmolLM2-135M-Instruct-GGUF:q4_1@v1.0")
        #expect(full.owner == "bartowski" && full.name == "SmolLM2-135M-Instruct-GGUF")
        #expect(full.tag == "q4_1" && full.revision == "v1.0")
        #expect(full.description == "bartowski/SmolLM2-135M-Instruct-GGUF:q4_1@v1.0")

        let revisionFirst = try ModelName("a/b@refs/pr/1:Q8_0")
        #expect(revisionFirst.revision == "refs/pr/1" && revisionFirst.tag == "Q8_0")
    }

    @Test(arguments: [
        "", "noslash", "a/b/c", "/abs/path", "../x", "a/..", "a/../b", "./a", "a/b:", "a/b@", "a/b:Q4:Q5",
        "a--b/c", "a/b..c", "-a/b", "a/b-", "a/b c", "a/b@../../etc", "a/b@main/../x", "a/b@/abs", "a/b@x.lock",
        "a/b:../x", "a\\b/c", String(repeating: "a", count: 97) + "/b",
    ])
    func rejectsMalformedNames(_ text: String) {
        #expect(throws: HubError.self) { try ModelName(text) }
        #expect(!ModelName.looksLikeHubID(text))
    }

    @Test func rejectsUnsafeRepoPaths() {
        for path in ["../evil", "/etc/passwd", "a/../../b", "a//b", "./a", "a/.", "", "a\\..\\b", "a\0b"] {
            #expect(throws: HubError.pathOutsideCache(path)) { try validateRepoPath(path) }
        }
        #expect((try? validateRepoPath("sub/dir/model.gguf")) == "sub/dir/model.gguf")
    }

    @Test func hubIDsAreToldFromPaths() {
        #expect(ModelName.looksLikeHubID("microsoft/Phi-3-mini-4k-instruct"))
        #expect(ModelName.looksLikeHubID("owner/name:Q4_1"))
        #expect(!ModelName.looksLikeHubID("/models/x.gguf"))
        #expect(!ModelName.looksLikeHubID("SmolLM2-135M-Instruct"))
        #expect(!ModelName.looksLikeHubID("./dir/model.gguf"))
    }
}

@Suite struct ModelFilesTests {
    let ggufRepo = [
        "README.md", ".gitattributes", "SmolLM2-135M-Instruct-Q4_K_M.gguf", "SmolLM2-135M-Instruct-Q4_K_S.gguf",
        "SmolLM2-135M-Instruct-q4_1.gguf", "SmolLM2-135M-Instruct-Q8_0.gguf", "mmproj-SmolLM2-Q4_K_M.gguf",
    ]

    func select(_ name: String, _ files: [String]) throws -> ModelFiles {
        try ModelFiles.select(for: ModelName(name), from: files)
    }

    @Test func tagIsCaseInsensitive() throws {
        #expect(try select("o/n:Q4_1", ggufRepo).files == ["SmolLM2-135M-Instruct-q4_1.gguf"])
        #expect(try select("o/n:q8_0", ggufRepo).files == ["SmolLM2-135M-Instruct-Q8_0.gguf"])
        // A whole word wins over a substring: Q4_K_M does not also match ...Q4_K_S.
        #expect(try select("o/n:q4_k_m", ggufRepo).files == ["SmolLM2-135M-Instruct-Q4_K_M.gguf"])
    }

    @Test func defaultTagIsQ4KM() throws {
        let files = try select("o/n", ggufRepo)
        #expect(files.kind == .gguf && files.files == ["SmolLM2-135M-Instruct-Q4_K_M.gguf"])
    }

    @Test func missingTagListsTheChoices() throws {
        let noDefault = ggufRepo.filter { !$0.contains("Q4_K_M") || $0.contains("mmproj") }
        #expect(throws: HubError.tagNotFound(repo: "o/n", tag: nil, available: [
            "SmolLM2-135M-Instruct-Q4_K_S.gguf", "SmolLM2-135M-Instruct-Q8_0.gguf", "SmolLM2-135M-Instruct-q4_1.gguf",
        ])) { try select("o/n", noDefault) }
        #expect(throws: HubError.self) { try select("o/n:IQ2_XXS", ggufRepo) }
        #expect(throws: HubError.ambiguousTag(repo: "o/n", tag: "Q4_K", matches: [
            "SmolLM2-135M-Instruct-Q4_K_M.gguf", "SmolLM2-135M-Instruct-Q4_K_S.gguf",
        ])) { try select("o/n:Q4_K", ggufRepo) }
        #expect(throws: HubError.tagWithoutGGUF(repo: "o/n", tag: "Q4_1")) {
            try select("o/n:Q4_1", ["config.json", "model.safetensors"])
        }
    }

    @Test func singleGGUFNeedsNoTag() throws {
        #expect(try select("o/n", ["x.Q5_0.gguf", "README.md"]).files == ["x.Q5_0.gguf"])
    }

    @Test func splitGGUFComesWhole() throws {
        let files = ["big-Q4_K_M-00002-of-00002.gguf", "big-Q4_K_M-00001-of-00002.gguf", "big-Q8_0.gguf"]
        #expect(try select("o/n", files).files == ["big-Q4_K_M-00001-of-00002.gguf", "big-Q4_K_M-00002-of-00002.gguf"])
    }

    @Test func safetensorsDirectory() throws {
        let files = [
            "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "tokenizer.model", "model-00001-of-00002.safetensors",
            "model-00002-of-00002.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "README.md",
            "original/consolidated.00.pth", "onnx/model.onnx",
        ]
        let selection = try select("o/n", files)
        #expect(selection.kind == .safetensors)
        #expect(selection.index == "model.safetensors.index.json")
        #expect(selection.files == [
            "config.json", "generation_config.json", "model.safetensors.index.json", "special_tokens_map.json",
            "tokenizer.json", "tokenizer.model", "tokenizer_config.json",
        ])
        let single = try select("o/n", ["config.json", "model.safetensors", "tokenizer.json", "flax_model.msgpack"])
        #expect(single.files == ["config.json", "model.safetensors", "tokenizer.json"] && single.index == nil)
    }

    @Test func indexNamesTheWeights() throws {
        let index = #"{"metadata": {"total_size": 10}, "weight_map": {"a": "w-1.safetensors", "b": "w-2.safetensors", "c": "w-1.safetensors"}}"#
        #expect(try ModelFiles.weights(fromIndex: Array(index.utf8), indexPath: "i") == ["w-1.safetensors", "w-2.safetensors"])
        let evil = #"{"weight_map": {"a": "../../outside.safetensors"}}"#
        #expect(throws: HubError.pathOutsideCache("../../outside.safetensors")) {
            try ModelFiles.weights(fromIndex: Array(evil.utf8), indexPath: "i")
        }
    }

    @Test func unsafeFileListIsRejected() {
        #expect(throws: HubError.pathOutsideCache("../evil.gguf")) { try select("o/n:Q4_1", ["../evil.gguf", "a-Q4_1.gguf"]) }
        #expect(throws: HubError.pathOutsideCache("/etc/x.gguf")) { try select("o/n", ["/etc/x.gguf"]) }
    }

    @Test func nothingToLoad() {
        #expect(throws: HubError.noModelFiles(repo: "o/n", files: ["README.md"])) { try select("o/n", ["README.md"]) }
    }
}

@Suite struct ConfigurationTests {
    @Test func cacheLocationFollowsHuggingFaceHub() {
        #expect(HubCache.defaultRoot(environment: ["HF_HUB_CACHE": "/x/cache", "HF_HOME": "/y"]) == "/x/cache")
        #expect(HubCache.defaultRoot(environment: ["HF_HOME": "/y", "HOME": "/h"]) == "/y/hub")
        #expect(HubCache.defaultRoot(environment: ["HOME": "/h"]) == "/h/.cache/huggingface/hub")
        #expect(HubCache.defaultRoot(environment: ["HOME": "/h", "XDG_CACHE_HOME": "/xdg"]) == "/xdg/huggingface/hub")
        #expect(HubCache.defaultRoot(environment: ["HOME": "/h", "HF_HUB_CACHE": "~/c"]) == "/h/c")
    }

    @Test func environmentSettings() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("hf-home-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        try Data("  hf_from_file\n".utf8).write(to: URL(fileURLWithPath: home + "/token"))

        let fromFile = HubConfiguration.fromEnvironment(["HF_HOME": home, "HF_ENDPOINT": "http://127.0.0.1:9/"])
        #expect(fromFile.token == "hf_from_file")
        #expect(fromFile.endpoint == "http://127.0.0.1:9")
        #expect(fromFile.cache.root == home + "/hub")
        #expect(!fromFile.offline)

        let explicit = HubConfiguration.fromEnvironment(["HF_HOME": home, "HF_TOKEN": "hf_env", "HF_HUB_OFFLINE": "1"])
        #expect(explicit.token == "hf_env" && explicit.offline && explicit.endpoint == "https://huggingface.co")
        for value in ["true", "YES", "On"] {
            #expect(HubConfiguration.fromEnvironment(["HF_HOME": home, "HF_HUB_OFFLINE": value]).offline)
        }
        #expect(!HubConfiguration.fromEnvironment(["HF_HOME": home, "HF_HUB_OFFLINE": "0"]).offline)
        #expect(HubConfiguration.fromEnvironment(["HF_HOME": home + "/none"]).token == nil)
    }

    @Test func etagsAreNormalizedAsHuggingFaceHubDoes() {
        #expect(HubClient.normalizeEtag("W/\"abc\"") == "abc")
        #expect(HubClient.normalizeEtag("\"abc\"") == "abc")
        #expect(HubClient.encodeSegment("refs/pr/1") == "refs%2Fpr%2F1")
    }
}
