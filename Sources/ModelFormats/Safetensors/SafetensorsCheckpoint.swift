import Foundation
import JSON

/// A safetensors checkpoint: one file, or several shards tied together by an index.
///
/// ``init(path:)`` accepts
/// - a directory holding `model.safetensors.index.json` (sharded), or else `model.safetensors`;
/// - an index file (any path ending in `.json`), whose shards live beside it;
/// - any single `.safetensors` file.
///
/// For a sharded checkpoint, the index's `weight_map` is authoritative: it names every tensor and
/// its shard. Each shard is mapped and validated once, at open, and every indexed tensor is checked
/// to exist in its shard. Tensors a shard holds but the index does not list are not exposed, and
/// shard files the index does not name are not opened.
public final class SafetensorsCheckpoint: Sendable {
    /// The index file name looked for in a directory.
    public static let indexFileName = "model.safetensors.index.json"
    /// The single-file name looked for in a directory without an index.
    public static let singleFileName = "model.safetensors"
    /// The largest index file accepted, in bytes (the index is parsed in memory).
    public static let maxIndexLength = 100_000_000

    /// The path of the index file, or `nil` for a single-file checkpoint.
    public let indexPath: String?
    /// The index's `metadata` (e.g. `total_size`): string values as they are, integer values in
    /// decimal; values of other JSON types are left out. Empty for a single-file checkpoint, whose
    /// own `__metadata__` is on its file in ``shards``.
    public let indexMetadata: [String: String]
    /// The opened files, in shard-name order (a single file for an unsharded checkpoint).
    public let shards: [SafetensorsFile]
    private let shardOfTensor: [String: Int]

    /// Opens the checkpoint at `path` (a directory, an index file or a `.safetensors` file) and
    /// validates every shard it names.
    public convenience init(path: String) throws(SafetensorsError) {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        let indexFile: String
        if exists && isDirectory.boolValue {
            let index = Self.join(path, Self.indexFileName)
            let single = Self.join(path, Self.singleFileName)
            if FileManager.default.fileExists(atPath: index) {
                indexFile = index
            } else if FileManager.default.fileExists(atPath: single) {
                self.init(try Self.loadSingle(single))
                return
            } else {
                throw .noCheckpoint(directory: path)
            }
        } else if path.hasSuffix(".json") {
            indexFile = path
        } else {
            // A missing path lands here too; opening it reports the errno.
            self.init(try Self.loadSingle(path))
            return
        }
        self.init(try Self.loadIndexed(indexFile))
    }

    /// What a checkpoint is made of, gathered before the object exists.
    private struct Parts {
        var indexPath: String?
        var indexMetadata: [String: String]
        var shards: [SafetensorsFile]
        var shardOfTensor: [String: Int]
    }

    private init(_ parts: Parts) {
        indexPath = parts.indexPath
        indexMetadata = parts.indexMetadata
        shards = parts.shards
        shardOfTensor = parts.shardOfTensor
    }

    private static func loadSingle(_ path: String) throws(SafetensorsError) -> Parts {
        let file = try SafetensorsFile(path: path)
        var map: [String: Int] = [:]
        for name in file.names { map[name] = 0 }
        return Parts(indexPath: nil, indexMetadata: [:], shards: [file], shardOfTensor: map)
    }

    private static func loadIndexed(_ indexFile: String) throws(SafetensorsError) -> Parts {
        let object = try Self.readIndex(indexFile)
        let directory = URL(fileURLWithPath: indexFile).deletingLastPathComponent().path

        var metadata: [String: String] = [:]
        if let value = object["metadata"], !value.isNull {
            guard let m = value.members else { throw .invalidIndexEntry(file: indexFile, key: "metadata") }
            for (key, v) in JSONValue.uniqueMembers(m) {
                if let s = v.string {
                    metadata[key] = s
                } else if let n = v.integer {
                    metadata[key] = String(n)
                }
            }
        }

        guard let weightMapMembers = object["weight_map"]?.members else {
            throw .missingWeightMap(file: indexFile)
        }
        let weightMap = JSONValue.uniqueMembers(weightMapMembers)
        // Sorted so that a checkpoint with several problems always reports the same one first.
        var tensorToShard: [(tensor: String, shard: String)] = []
        tensorToShard.reserveCapacity(weightMap.count)
        for (tensor, value) in weightMap.sorted(by: { $0.key < $1.key }) {
            guard let shard = value.string else { throw .invalidIndexEntry(file: indexFile, key: tensor) }
            guard Self.isPlainFileName(shard) else { throw .invalidShardName(file: indexFile, shard: shard) }
            tensorToShard.append((tensor, shard))
        }

        let shardNames = Set(tensorToShard.map(\.shard)).sorted()
        var files: [SafetensorsFile] = []
        var shardIndex: [String: Int] = [:]
        for name in shardNames {
            let shardPath = Self.join(directory, name)
            guard FileManager.default.fileExists(atPath: shardPath) else {
                throw .shardMissing(file: indexFile, shard: name)
            }
            shardIndex[name] = files.count
            files.append(try SafetensorsFile(path: shardPath))
        }

        var map: [String: Int] = [:]
        map.reserveCapacity(tensorToShard.count)
        for (tensor, shard) in tensorToShard {
            guard let i = shardIndex[shard], files[i].contains(tensor) else {
                throw .tensorMissingFromShard(tensor: tensor, shard: Self.join(directory, shard))
            }
            map[tensor] = i
        }
        return Parts(indexPath: indexFile, indexMetadata: metadata, shards: files, shardOfTensor: map)
    }

    /// Every tensor name, sorted.
    public var tensorNames: [String] { shardOfTensor.keys.sorted() }

    /// Whether the checkpoint has a tensor called `name`.
    public func contains(_ name: String) -> Bool { shardOfTensor[name] != nil }

    /// The file holding tensor `name`, or `nil` when there is no such tensor.
    public func shard(containing name: String) -> SafetensorsFile? {
        shardOfTensor[name].map { shards[$0] }
    }

    /// The table entry for `name`, or `nil` when there is none.
    public func info(_ name: String) -> SafetensorsTensorInfo? {
        shard(containing: name)?.info(name)
    }

    /// The stored bytes of tensor `name`, valid while this checkpoint is alive; see
    /// ``SafetensorsFile/rawBytes(_:)``.
    public func rawBytes(_ name: String) throws(SafetensorsError) -> UnsafeRawBufferPointer {
        try require(name).rawBytes(name)
    }

    /// The file holding tensor `name`.
    /// - Throws: ``SafetensorsError/tensorNotFound(file:tensor:)`` when no shard has it.
    package func require(_ name: String) throws(SafetensorsError) -> SafetensorsFile {
        guard let file = shard(containing: name) else {
            throw .tensorNotFound(file: indexPath ?? shards.first?.path ?? "", tensor: name)
        }
        return file
    }

    /// Reads the index as a JSON object, after checking its size (it is parsed in memory).
    private static func readIndex(_ path: String) throws(SafetensorsError) -> JSONValue {
        let mapped: MappedFile
        do throws(FileError) {
            mapped = try MappedFile(path: path)
        } catch {
            throw .cannotOpen(error)
        }
        guard mapped.count <= maxIndexLength else {
            throw .invalidIndex(file: path, reason: "\(mapped.count) bytes exceeds the limit of \(maxIndexLength)")
        }
        switch SafetensorsJSON.parseObject(mapped.bytes) {
        case let .success(members): return .object(members)
        case .failure(.notUTF8): throw .invalidIndex(file: path, reason: "not valid UTF-8")
        case let .failure(.invalid(error)):
            throw .invalidIndex(file: path, reason: "not valid JSON: \(error.reason) at byte \(error.offset)")
        case .failure(.notObject): throw .invalidIndex(file: path, reason: "not a JSON object")
        }
    }

    /// Whether `name` names a file directly inside the checkpoint directory. Index files come from
    /// anywhere, so `../secret`, `/etc/passwd` or `sub/dir` must not reach the file system.
    static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".."
            && !name.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "\\") || $0 == 0 })
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
