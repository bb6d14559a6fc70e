import Foundation

/// Which files of a repository make up the model a name asks for.
public struct ModelFiles: Sendable, Equatable {
    /// What kind of checkpoint the repository holds.
    public enum Kind: String, Sendable, Equatable {
        /// One GGUF file, or the shards of one split GGUF.
        case gguf
        /// A Hugging Face directory: config, tokenizer files, safetensors weights.
        case safetensors
    }

    /// The checkpoint's kind.
    public var kind: Kind
    /// The files to fetch first, sorted (for GGUF: the file or its shards, first shard first).
    public var files: [String]
    /// A sharded safetensors checkpoint's index; the weights it names are fetched after it.
    public var index: String?

    /// The files a Hugging Face directory load reads besides the weights.
    public static let directoryFiles: Set<String> = [
        "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "tokenizer.model",
        "special_tokens_map.json", "added_tokens.json", "vocab.json", "merges.txt", "chat_template.json",
        "chat_template.jinja",
    ]

    /// The tag taken when a name has none, as llama.cpp does.
    public static let defaultTag = "Q4_K_M"

    /// Picks the files for `name` from a repository's file list.
    ///
    /// - A tag, or a repository without safetensors weights, means GGUF: the file whose path carries
    ///   the tag as a `-`/`.`/`/`-separated word (else as a substring), case-insensitively. No tag
    ///   takes Q4_K_M, or the only GGUF if there is just one; otherwise the error lists the choices.
    ///   `mmproj` files are never chosen; a split GGUF (`-00001-of-00003.gguf`) comes whole.
    /// - Otherwise a safetensors checkpoint: ``directoryFiles`` that exist, the top-level
    ///   `*.safetensors.index.json` if any (its weights are read from it), else the top-level
    ///   `*.safetensors` files.
    ///
    /// Every path is checked with ``validateRepoPath(_:)`` first.
    public static func select(for name: ModelName, from files: [String]) throws -> ModelFiles {
        for file in files { _ = try validateRepoPath(file) }
        let ggufGroups = groupGGUF(files)
        let topLevel = files.filter { !$0.contains("/") }
        let safetensors = topLevel.filter { $0.hasSuffix(".safetensors") }
        let indexes = topLevel.filter { $0.hasSuffix(".safetensors.index.json") }.sorted()
        let hasCheckpoint = topLevel.contains("config.json") && (!safetensors.isEmpty || !indexes.isEmpty)

        if let tag = name.tag {
            guard !ggufGroups.isEmpty else { throw HubError.tagWithoutGGUF(repo: name.repo, tag: tag) }
            return ModelFiles(kind: .gguf, files: try pickGGUF(ggufGroups, tag: tag, repo: name.repo, explicit: true))
        }
        if hasCheckpoint {
            let metadata = topLevel.filter { directoryFiles.contains($0) }
            if let index = indexes.first(where: { $0 == "model.safetensors.index.json" }) ?? indexes.first {
                return ModelFiles(kind: .safetensors, files: (metadata + [index]).sorted(), index: index)
            }
            // Without an index, one checkpoint: Mistral-style `consolidated*` files sit beside the
            // Transformers ones and repeat the same weights.
            let transformers = safetensors.filter { !$0.hasPrefix("consolidated") }
            let weights = transformers.isEmpty ? safetensors : transformers
            return ModelFiles(kind: .safetensors, files: (metadata + weights).sorted())
        }
        if !ggufGroups.isEmpty {
            return ModelFiles(
                kind: .gguf, files: try pickGGUF(ggufGroups, tag: defaultTag, repo: name.repo, explicit: false))
        }
        throw HubError.noModelFiles(repo: name.repo, files: files.sorted())
    }

    /// The weight files a safetensors index names (`weight_map` values), sorted and checked.
    public static func weights(fromIndex data: [UInt8], indexPath: String) throws -> [String] {
        struct Index: Decodable { var weight_map: [String: String] }
        let index: Index
        do {
            index = try JSONDecoderBox.decode(Index.self, from: data)
        } catch {
            throw HubError.invalidResponse(url: indexPath, reason: "not a safetensors index: \(error)")
        }
        let files = Set(index.weight_map.values)
        for file in files { _ = try validateRepoPath(file) }
        return files.sorted()
    }

    // MARK: - GGUF

    /// GGUF files (without `mmproj`), split files grouped under their first shard, sorted.
    static func groupGGUF(_ files: [String]) -> [[String]] {
        var groups: [String: [String]] = [:]
        for file in files where file.lowercased().hasSuffix(".gguf") {
            let base = file.split(separator: "/").last.map(String.init) ?? file
            if base.lowercased().contains("mmproj") { continue }
            groups[shardKey(file), default: []].append(file)
        }
        return groups.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    }

    /// `name-00001-of-00003.gguf` → `name.gguf`; other names unchanged.
    static func shardKey(_ file: String) -> String {
        let stem = file.dropLast(5)  // ".gguf"
        let parts = stem.split(separator: "-")
        guard parts.count >= 4, parts[parts.count - 2] == "of",
            let index = Int(parts[parts.count - 3]), index >= 1,
            parts[parts.count - 3].count == 5, parts[parts.count - 1].count == 5,
            parts[parts.count - 1].allSatisfy(\.isNumber)
        else { return file }
        return parts.dropLast(3).joined(separator: "-") + ".gguf"
    }

    /// The words of a path: split on `/`, `.` and `-`, lowercased.
    static func words(_ path: String) -> [Substring] {
        path.lowercased().split(whereSeparator: { $0 == "/" || $0 == "." || $0 == "-" })
    }

    static func pickGGUF(_ groups: [[String]], tag: String, repo: String, explicit: Bool) throws -> [String] {
        let wanted = tag.lowercased()
        var matches = groups.filter { words($0[0]).contains(Substring(wanted)) }
        if matches.isEmpty { matches = groups.filter { $0[0].lowercased().contains(wanted) } }
        if matches.count == 1 { return matches[0] }
        if matches.count > 1 {
            throw HubError.ambiguousTag(repo: repo, tag: tag, matches: matches.map { $0[0] })
        }
        if !explicit, groups.count == 1 { return groups[0] }
        throw HubError.tagNotFound(repo: repo, tag: explicit ? tag : nil, available: groups.map { shardKey($0[0]) })
    }
}

/// A JSON decoder for the small documents of the Hub protocol.
enum JSONDecoderBox {
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
}
