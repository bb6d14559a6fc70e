import Foundation
import ModelFormats
import Testing
import Tensor

/// Sharded and single-file checkpoints, good and hostile.
@Suite struct SafetensorsCheckpointTests {
    static let shard1 = "model-00001-of-00002.safetensors"
    static let shard2 = "model-00002-of-00002.safetensors"
    static let shardedTensors: [(name: String, shard: String, type: ElementType, shape: [Int])] = [
        ("model.embed_tokens.weight", shard1, .f32, [4, 3]),
        ("model.layers.0.input_layernorm.weight", shard1, .f16, [3]),
        ("model.norm.weight", shard2, .bf16, [3]),
        ("lm_head.weight", shard2, .f32, [4, 3]),
    ]

    @Test func shardedLookupAcrossBothShards() throws {
        let checkpoint = try SafetensorsCheckpoint(path: SafetensorsFixtures.shardedDirectory)
        #expect(checkpoint.indexPath?.hasSuffix("sharded/model.safetensors.index.json") == true)
        #expect(checkpoint.indexMetadata == ["total_size": "108"])
        #expect(checkpoint.shards.count == 2)
        #expect(checkpoint.tensorNames == Self.shardedTensors.map(\.name).sorted())
        for spec in Self.shardedTensors {
            let shard = try #require(checkpoint.shard(containing: spec.name))
            #expect(shard.path.hasSuffix("/" + spec.shard))
            let tensor = try checkpoint.tensor(spec.name)
            #expect(tensor.type == spec.type)
            #expect(tensor.shape == Shape(spec.shape))
            guard case let .mapped(file, _, _) = tensor.storage else {
                Issue.record("\(spec.name) is not mapped")
                continue
            }
            // Every tensor of a shard is a view of that shard's single mapping.
            #expect(file === shard.mappedFile)
            let expected = try SafetensorsFixtures.expectedBits("sharded/expected/\(spec.name).f32")
            #expect(bitPatterns(tensor.toFloats()) == expected)
            #expect(checkpoint.info(spec.name)?.dtype.elementType == spec.type)
        }
        #expect(try checkpoint.tensor("model.embed_tokens.weight").toFloats() == (0 ..< 12).map { Float($0) * 0.5 - 1 })
        #expect(!checkpoint.contains("model.layers.1.input_layernorm.weight"))
        #expect(checkpoint.shard(containing: "absent") == nil)
        #expect(throws: SafetensorsError.tensorNotFound(file: try #require(checkpoint.indexPath), tensor: "absent")) {
            try checkpoint.tensor("absent")
        }
    }

    @Test func openingTheIndexFileDirectly() throws {
        let checkpoint = try SafetensorsCheckpoint(
            path: SafetensorsFixtures.shardedDirectory + "/" + SafetensorsCheckpoint.indexFileName)
        #expect(checkpoint.shards.count == 2)
        #expect(try checkpoint.tensor("model.norm.weight").toFloats() == [1, 2, -0.5])
    }

    @Test func singleFileCheckpoint() throws {
        try withScratch { dir in
            try dir.copyFixture("mixed.safetensors", as: SafetensorsCheckpoint.singleFileName)
            for path in [dir.path, dir.path(SafetensorsCheckpoint.singleFileName), SafetensorsFixtures.mixedPath] {
                let checkpoint = try SafetensorsCheckpoint(path: path)
                #expect(checkpoint.indexPath == nil)
                #expect(checkpoint.shards.count == 1)
                #expect(checkpoint.shards.first?.metadata["format"] == "pt")
                #expect(checkpoint.tensorNames.count == 10)
                #expect(try checkpoint.tensor("f32.scalar").toFloats() == [-7.25])
                let ids = SafetensorsFixtures.integers(try checkpoint.rawBytes("i32.ids"), as: Int32.self)
                #expect(ids == [0, 1, -1, .max, .min])
            }
        }
    }

    @Test func emptyDirectoryIsNotACheckpoint() throws {
        try withScratch { dir in
            try dir.write("notes.txt", text: "hello")
            #expect(throws: SafetensorsError.noCheckpoint(directory: dir.path)) { try SafetensorsCheckpoint(path: dir.path) }
        }
    }

    /// A directory holding copies of both fixture shards and the given index text.
    private func shardedCopy(_ dir: ScratchDirectory, index: String) throws -> String {
        try dir.copyFixture("sharded/" + Self.shard1, as: Self.shard1)
        try dir.copyFixture("sharded/" + Self.shard2, as: Self.shard2)
        return try dir.write(SafetensorsCheckpoint.indexFileName, text: index)
    }

    /// The last two are stricter than JSONSerialization, as Python's `json.load` is (see
    /// `Fixtures/safetensors/strict_json_reference.py`): a trailing comma, a byte order mark.
    @Test(arguments: [
        "", "{", #"{"weight_map": {"a": "b" "c": "d"}}"#, "not json", "{\u{0}}",
        #"{"weight_map": {"lm_head.weight": "model-00002-of-00002.safetensors",}}"#, "\u{FEFF}{\"weight_map\": {}}",
    ])
    func invalidIndexJSON(index: String) throws {
        try withScratch { dir in
            let indexPath = try shardedCopy(dir, index: index)
            guard case let .invalidIndex(file, _) = checkpointError(dir.path) else {
                Issue.record("expected invalidIndex, got \(String(describing: checkpointError(dir.path)))")
                return
            }
            #expect(file == indexPath)
        }
    }

    /// A repeated `weight_map` key keeps its last value, as Python's `dict` does: the first names a
    /// shard that does not exist, and is never opened.
    @Test func repeatedIndexKeys() throws {
        try withScratch { dir in
            let index = #"{"weight_map": {"lm_head.weight": "absent.safetensors", "lm_head.weight": "\#(Self.shard2)"}}"#
            _ = try shardedCopy(dir, index: index)
            let checkpoint = try SafetensorsCheckpoint(path: dir.path)
            #expect(checkpoint.tensorNames == ["lm_head.weight"])
            #expect(checkpoint.shard(containing: "lm_head.weight")?.path.hasSuffix("/" + Self.shard2) == true)
        }
    }

    @Test func indexNotAnObject() throws {
        try withScratch { dir in
            let indexPath = try shardedCopy(dir, index: "[]")
            #expect(throws: SafetensorsError.invalidIndex(file: indexPath, reason: "not a JSON object")) {
                try SafetensorsCheckpoint(path: dir.path)
            }
        }
    }

    @Test(arguments: [#"{"metadata": {}}"#, #"{"weight_map": ["a"]}"#, #"{"weight_map": null}"#, #"{"weight_map": "x"}"#])
    func missingWeightMap(index: String) throws {
        try withScratch { dir in
            let indexPath = try shardedCopy(dir, index: index)
            #expect(throws: SafetensorsError.missingWeightMap(file: indexPath)) { try SafetensorsCheckpoint(path: dir.path) }
        }
    }

    @Test(arguments: [
        (#"{"weight_map": {"lm_head.weight": 2}}"#, "lm_head.weight"),
        (#"{"weight_map": {"lm_head.weight": null}}"#, "lm_head.weight"),
        (#"{"metadata": [1], "weight_map": {}}"#, "metadata"),
    ])
    func invalidIndexEntry(index: String, key: String) throws {
        try withScratch { dir in
            let indexPath = try shardedCopy(dir, index: index)
            #expect(throws: SafetensorsError.invalidIndexEntry(file: indexPath, key: key)) {
                try SafetensorsCheckpoint(path: dir.path)
            }
        }
    }

    @Test(arguments: [
        "../model-00001-of-00002.safetensors", "/etc/passwd", "sub/x.safetensors", "..", ".", "",
        #"a\\b.safetensors"#, "./model-00001-of-00002.safetensors", "x\\u0000.safetensors",
    ])
    func badShardName(shard: String) throws {
        try withScratch { dir in
            let index = #"{"weight_map": {"lm_head.weight": "\#(shard)"}}"#
            let indexPath = try shardedCopy(dir, index: index)
            let decoded = shard.replacingOccurrences(of: #"\\"#, with: #"\"#).replacingOccurrences(of: #"\u0000"#, with: "\u{0}")
            #expect(throws: SafetensorsError.invalidShardName(file: indexPath, shard: decoded)) {
                try SafetensorsCheckpoint(path: dir.path)
            }
        }
    }

    @Test func shardFileMissing() throws {
        try withScratch { dir in
            let index = #"{"weight_map": {"lm_head.weight": "\#(Self.shard2)", "x": "model-00003-of-00003.safetensors"}}"#
            let indexPath = try shardedCopy(dir, index: index)
            #expect(throws: SafetensorsError.shardMissing(file: indexPath, shard: "model-00003-of-00003.safetensors")) {
                try SafetensorsCheckpoint(path: dir.path)
            }
        }
    }

    @Test func tensorListedInIndexButAbsentFromShard() throws {
        try withScratch { dir in
            // lm_head.weight lives in shard 2; the index claims shard 1.
            let index = #"{"weight_map": {"lm_head.weight": "\#(Self.shard1)", "model.norm.weight": "\#(Self.shard2)"}}"#
            _ = try shardedCopy(dir, index: index)
            #expect(throws: SafetensorsError.tensorMissingFromShard(tensor: "lm_head.weight", shard: dir.path(Self.shard1))) {
                try SafetensorsCheckpoint(path: dir.path)
            }
        }
    }

    @Test func hostileShardReportsTheShardPath() throws {
        try withScratch { dir in
            let bad = try dir.write("bad.safetensors", [1, 2, 3])
            let index = #"{"weight_map": {"w": "bad.safetensors"}}"#
            _ = try dir.write(SafetensorsCheckpoint.indexFileName, text: index)
            #expect(throws: SafetensorsError.fileTooShort(file: bad, size: 3)) { try SafetensorsCheckpoint(path: dir.path) }
        }
    }

    /// Only tensors the index lists are exposed, and unlisted shards are never opened.
    @Test func indexIsAuthoritative() throws {
        try withScratch { dir in
            try dir.write("unused.safetensors", [0xFF])  // would fail to open
            let index = #"{"metadata": {"total_size": 48, "note": "x", "ratio": 0.5}, "weight_map": {"lm_head.weight": "\#(Self.shard2)"}}"#
            _ = try shardedCopy(dir, index: index)
            let checkpoint = try SafetensorsCheckpoint(path: dir.path)
            #expect(checkpoint.tensorNames == ["lm_head.weight"])
            #expect(checkpoint.shards.count == 1)
            #expect(!checkpoint.contains("model.norm.weight"))
            #expect(checkpoint.indexMetadata == ["total_size": "48", "note": "x"])
        }
    }
}
