import Foundation
import JSON

/// Typed access to a parsed JSON object, every failure a `TokenizerError` naming the field.
struct JSONObject {
    /// The members in file order, keys exactly as written.
    let members: [(key: String, value: JSONValue)]
    /// The dotted path of this object in its file, for error messages ("model", "added_tokens[3]").
    let path: String

    /// The largest JSON file read, in bytes. The biggest real `tokenizer.json` files (256k-token
    /// vocabularies with their merges) are ~35 MB; the parsed tree takes several times the file, so
    /// a runaway file is refused before it is read rather than after memory runs out.
    static let maxFileBytes = 256 << 20

    /// Parses a file whose top level must be an object.
    static func read(file: String) throws(TokenizerError) -> JSONObject {
        let attributes = try? FileManager.default.attributesOfItem(atPath: file)
        let size = (attributes?[.size] as? Int) ?? 0
        guard size <= maxFileBytes else {
            throw .unreadableFile(path: file, reason: "\(size) bytes exceed the limit of \(maxFileBytes)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw .unreadableFile(path: file, reason: error.localizedDescription)
        }
        return try parse([UInt8](data), name: file)
    }

    /// Parses bytes whose top level must be an object; `name` stands for the file in errors.
    static func parse(_ bytes: [UInt8], name: String) throws(TokenizerError) -> JSONObject {
        let parsed: JSONValue
        do {
            parsed = try JSONValue(parsing: bytes)
        } catch {
            throw .unreadableFile(path: name, reason: error.description)
        }
        return try JSONObject(document: parsed, name: name)
    }

    /// A parsed document whose top level must be an object; `name` stands for the file in errors.
    init(document: JSONValue, name: String) throws(TokenizerError) {
        guard case let .object(members) = document else {
            throw .unreadableFile(path: name, reason: "the top level is not a JSON object")
        }
        self.init(members: members, path: "")
    }

    init(members: [(key: String, value: JSONValue)], path: String) {
        self.members = members
        self.path = path
    }

    private func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The value of `key` (exact bytes; the last one if a key repeats), nil when absent or `null`.
    func value(_ key: String) -> JSONValue? { JSONValue.object(members)[key]?.nonNull }

    func has(_ key: String) -> Bool { value(key) != nil }

    func object(_ key: String) throws(TokenizerError) -> JSONObject? {
        guard let v = value(key) else { return nil }
        guard case let .object(o) = v else { throw .invalidField(name(key), reason: "expected an object") }
        return JSONObject(members: o, path: name(key))
    }

    func string(_ key: String) throws(TokenizerError) -> String? {
        guard let v = value(key) else { return nil }
        guard case let .string(s) = v else { throw .invalidField(name(key), reason: "expected a string") }
        return s
    }

    func bool(_ key: String) throws(TokenizerError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case let .bool(b) = v else { throw .invalidField(name(key), reason: "expected true or false") }
        return b
    }

    func int(_ key: String) throws(TokenizerError) -> Int? {
        guard let v = value(key) else { return nil }
        guard let i = v.integer else { throw .invalidField(name(key), reason: "expected an integer") }
        return i
    }

    func array(_ key: String) throws(TokenizerError) -> [JSONValue]? {
        guard let v = value(key) else { return nil }
        guard case let .array(a) = v else { throw .invalidField(name(key), reason: "expected an array") }
        return a
    }

    /// An array of objects, each with its indexed path.
    func objects(_ key: String) throws(TokenizerError) -> [JSONObject]? {
        guard let items = try array(key) else { return nil }
        var result: [JSONObject] = []
        for (i, item) in items.enumerated() {
            guard case let .object(o) = item else { throw .invalidField("\(name(key))[\(i)]", reason: "expected an object") }
            result.append(JSONObject(members: o, path: "\(name(key))[\(i)]"))
        }
        return result
    }

    /// A special-token entry of tokenizer_config.json: a plain string or an AddedToken object
    /// (`{"content": "<s>", ...}`).
    func tokenContent(_ key: String) throws(TokenizerError) -> String? {
        guard let v = value(key) else { return nil }
        if case let .string(s) = v { return s }
        if let o = try object(key), let content = try o.string("content") { return content }
        throw .invalidField(name(key), reason: "expected a string or an object with \"content\"")
    }
}

/// Which `tokenizer.ggml.pre` name a Hugging Face byte-level pre-tokenizer corresponds to.
///
/// llama.cpp's converter recognises pre-tokenizers by hashing the tokenization of a test text; with
/// no reference tokenizer at hand, this looks at the configuration itself: the `Split` regexes and
/// `Digits` steps in front of the final `ByteLevel` step.
enum HuggingFacePreTokenizer {
    static let llama3Regex =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Regex =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let gpt2Regex = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    /// The GGUF pre-tokenizer name, or nil when the configuration matches none that is known.
    static func detect(_ pre: JSONObject?) throws(TokenizerError) -> String? {
        guard let pre else { return nil }
        var steps: [JSONObject] = []
        switch try pre.string("type") {
        case "Sequence"?: steps = try pre.objects("pretokenizers") ?? []
        case .some: steps = [pre]
        case nil: throw .invalidField("\(pre.path).type", reason: "missing")
        }
        guard let last = steps.last, try last.string("type") == "ByteLevel" else { return nil }
        let byteLevelSplits = try last.bool("use_regex") ?? true
        let front = Array(steps.dropLast())
        var description: [String] = []
        for step in front {
            switch try step.string("type") {
            case "Split"?:
                guard let pattern = try step.object("pattern"), let regex = try pattern.string("Regex") else { return nil }
                description.append("split:" + regex)
            case "Digits"?:
                description.append((try step.bool("individual_digits") ?? false) ? "digits:1" : "digits")
            default:
                return nil
            }
        }
        switch (description, byteLevelSplits) {
        case ([], true): return "gpt-2"
        case (["split:" + llama3Regex], false): return "llama-bpe"
        case (["split:" + qwen2Regex], false): return "qwen2"
        // SmolLM / StarCoder: single digits, then GPT-2's regex inside ByteLevel. llama.cpp treats
        // both alike when tokenizing; "smollm" also keeps llama.cpp's detokenizer clean-up off.
        case (["digits:1"], true): return "smollm"
        case (["split:" + gpt2Regex], false): return "gpt-2"
        default: return nil
        }
    }
}
