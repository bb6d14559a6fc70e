import Foundation
import JSON
import Tensor

/// The tokenizer's GGUF keys, as llama.cpp's converter writes them for SentencePiece checkpoints
/// (`LlamaModel.set_vocab` → `_set_vocab_sentencepiece`, `Phi3MiniModel.set_vocab`) and as
/// gguf-py's `SpecialVocab` adds the special ids, `add_*` flags, chat template and normalizer flags.
enum HuggingFaceVocabulary {
    typealias PieceType = SentencePieceModelFile.PieceType

    static func add(to writer: inout MetadataBuilder, directory: String, config: JSONValue, architecture: String)
        throws(ModelQuantizationError)
    {
        func path(_ name: String) -> String { URL(fileURLWithPath: directory).appendingPathComponent(name).path }
        let tokenizerConfig = try JSONValue.file(path("tokenizer_config.json"))
        let modelPath = path("tokenizer.model")
        let hasSentencePiece = FileManager.default.fileExists(atPath: modelPath)

        if architecture == "llama", let prefix = tokenizerConfig?["add_prefix_space"]?.bool {
            writer.add("tokenizer.ggml.add_space_prefix", .bool(prefix))
        }
        if architecture == "phi3", tokenizerConfig?["tokenizer_class"]?.string == "GPT2Tokenizer" {
            throw .invalidFile(path: path("tokenizer_config.json"),
                               reason: "a GPT2Tokenizer (byte-level BPE) checkpoint; only SentencePiece tokenizers convert yet")
        }
        if architecture == "llama", config["vocab_size"]?.integer == 32016 {
            throw .invalidFile(path: path("config.json"), reason: "vocab_size 32016 is CodeLlama's, whose infill tokens are not converted")
        }
        guard hasSentencePiece else {
            guard architecture == "llama", FileManager.default.fileExists(atPath: path("tokenizer.json")) else {
                throw .missingFile(path: modelPath)
            }
            try addByteLevel(to: &writer, directory: directory, config: config, tokenizerConfig: tokenizerConfig)
            disableBOSForGranite(&writer, config: config)
            return
        }

        let bytes: [UInt8]
        do { bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: modelPath))) } catch {
            throw .invalidFile(path: modelPath, reason: "cannot read: \(error.localizedDescription)")
        }
        let model: SentencePieceModelFile
        do { model = try SentencePieceModelFile(bytes: bytes) } catch {
            throw .invalidFile(path: modelPath, reason: "not a SentencePiece model: \(error.reason)")
        }

        let vocabularySize = config["vocab_size"]?.integer ?? model.pieces.count
        guard vocabularySize > 0, vocabularySize <= 1 << 24 else {
            throw .invalidFile(path: path("config.json"), reason: "vocab_size \(vocabularySize) is out of range")
        }
        var tokens = (0..<vocabularySize).map { "[PAD\($0)]" }
        var scores = [Float](repeating: -10000, count: vocabularySize)
        var types = [PieceType](repeating: .unused, count: vocabularySize)
        for (id, piece) in model.pieces.enumerated() where id < vocabularySize {
            tokens[id] = piece.text
            scores[id] = piece.score
            types[id] = piece.type
        }

        if let added = try JSONValue.file(path("added_tokens.json")) {
            for (text, value) in added.members ?? [] {
                guard let id = value.integer, id >= 0, id < vocabularySize else { continue }
                tokens[id] = text
                scores[id] = -1000
                types[id] = .userDefined
            }
        }
        if let decoder = tokenizerConfig?["added_tokens_decoder"]?.members {
            for (key, data) in decoder {
                guard let id = Int(key), id >= 0, id < vocabularySize, var text = data["content"]?.string else { continue }
                let special = data["special"]?.isTruthy ?? false
                if architecture == "phi3" {
                    types[id] = special ? .control : .userDefined
                } else if special || looksSpecial(text) {
                    types[id] = .control
                } else {
                    // The converter pre-normalizes user-defined spaces.
                    text = text.replacingOccurrences(of: "\u{2581}", with: " ")
                    types[id] = .userDefined
                }
                scores[id] = -1000
                tokens[id] = text
            }
        }
        let tokenizerJSON = try JSONValue.file(path("tokenizer.json"))
        if architecture == "phi3" {
            for data in tokenizerJSON?["added_tokens"]?.array ?? [] {
                guard let id = data["id"]?.integer, id >= 0, id < vocabularySize, let text = data["content"]?.string else { continue }
                tokens[id] = text
                scores[id] = -1000
                types[id] = (data["special"]?.isTruthy ?? false) ? .control : .userDefined
            }
        }

        writer.add("tokenizer.ggml.model", .string("llama"))
        writer.add("tokenizer.ggml.pre", .string("default"))
        writer.add("tokenizer.ggml.tokens", .array(.string(tokens)))
        writer.add("tokenizer.ggml.scores", .array(.float32(scores)))
        writer.add("tokenizer.ggml.token_type", .array(.int32(types.map(\.rawValue))))
        var special = SpecialVocabulary(vocabularySize: tokens.count)
        try special.load(directory: directory, tokenizer: tokenizerJSON, tokenizerConfig: tokenizerConfig, config: config)
        special.add(to: &writer)
        if architecture == "llama" { disableBOSForGranite(&writer, config: config) }
    }

    /// `LlamaModel.set_vocab`'s last step: a vocabulary of 49,152 tokens (Granite's small models, and
    /// SmolLM's) gets `add_bos_token` false, overwriting what the tokenizer's files said.
    private static func disableBOSForGranite(_ writer: inout MetadataBuilder, config: JSONValue) {
        if config["vocab_size"]?.integer == 49152 { writer.add("tokenizer.ggml.add_bos_token", .bool(false)) }
    }

    /// `TextModel.does_token_look_special`.
    static func looksSpecial(_ text: String) -> Bool {
        ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].contains(text)
            || (text.hasPrefix("<|") && text.hasSuffix("|>"))
            || (text.hasPrefix("<\u{FF5C}") && text.hasSuffix("\u{FF5C}>"))
            || (text.hasPrefix("<unused") && text.hasSuffix(">"))
    }
}

/// gguf-py's `SpecialVocab`.
struct SpecialVocabulary {
    let vocabularySize: Int
    /// `tokenizer.ggml.merges`, for byte-level BPE (`load_merges=True`); empty writes none.
    var merges: [String] = []
    var types = ["bos", "eos", "unk", "sep", "pad", "cls", "mask"]
    /// In the order set (the order the keys are written).
    var ids: [(type: String, id: Int)] = []
    var addFlags: [(type: String, value: Bool)] = []
    var chatTemplate: ChatTemplate?
    var lowercase: Bool?
    var stripAccents: Bool?

    enum ChatTemplate {
        case single(String)
        case named([(name: String, template: String)])
    }

    init(vocabularySize: Int) { self.vocabularySize = vocabularySize }

    mutating func setID(_ type: String, _ value: JSONValue?) {
        guard let id = value?.integer, id >= 0, id < vocabularySize, !ids.contains(where: { $0.type == type }) else { return }
        ids.append((type, id))
    }

    mutating func setFlag(_ type: String, _ value: Bool, overwrite: Bool) {
        if let index = addFlags.firstIndex(where: { $0.type == type }) {
            if overwrite { addFlags[index].value = value }
        } else {
            addFlags.append((type, value))
        }
    }

    mutating func parseNormalizer(_ normalizer: JSONValue) {
        switch normalizer["type"]?.string {
        case "Lowercase": lowercase = true
        case "StripAccents": stripAccents = true
        case "BertNormalizer":
            if let v = normalizer["lowercase"]?.bool { lowercase = v }
            if let v = normalizer["strip_accents"]?.bool { stripAccents = v }
        case "Sequence":
            for inner in normalizer["normalizers"]?.array ?? [] { parseNormalizer(inner) }
        default: break
        }
    }

    /// `_try_load_from_tokenizer_json` then `_try_load_from_config_json`.
    mutating func load(directory: String, tokenizer: JSONValue?, tokenizerConfig: JSONValue?, config: JSONValue)
        throws(ModelQuantizationError)
    {
        func path(_ name: String) -> String { URL(fileURLWithPath: directory).appendingPathComponent(name).path }
        var tokenizerConfig = tokenizerConfig
        func configString(_ key: String) -> String? {
            guard let value = tokenizerConfig?[key] else { return nil }
            if let s = value.string { return s }
            return value["content"]?.string
        }
        func setConfig(_ key: String, _ value: String) {
            guard case var .object(members)? = tokenizerConfig else { return }
            members.removeAll { $0.key == key }
            members.append((key, .string(value)))
            tokenizerConfig = .object(members)
        }
        var addedTokens: [JSONValue] = []
        if let tokenizer {
            if let normalizer = tokenizer["normalizer"], normalizer.isTruthy { parseNormalizer(normalizer) }
            addedTokens = tokenizer["added_tokens"]?.array ?? []
            // The raw values decide, as in Python: a dict-valued bos_token is truthy too.
            let configIsTruthy = tokenizerConfig?.isTruthy ?? false
            var bos = tokenizerConfig?["bos_token"], cls = tokenizerConfig?["cls_token"]
            var eos = tokenizerConfig?["eos_token"], sep = tokenizerConfig?["sep_token"]
            if !(bos?.isTruthy ?? false), cls?.isTruthy ?? false, configIsTruthy, let c = cls?.string {
                setConfig("bos_token", c); bos = cls
            }
            if !(eos?.isTruthy ?? false), sep?.isTruthy ?? false, configIsTruthy, let s = sep?.string {
                setConfig("eos_token", s); eos = sep
            }
            if let post = tokenizer["post_processor"], post.isTruthy {
                let processors = post["processors"]?.array ?? [post]
                for processor in processors {
                    switch processor["type"]?.string {
                    case "ByteLevel":
                        setFlag("bos", false, overwrite: false)
                        setFlag("eos", false, overwrite: false)
                    case "RobertaProcessing":
                        setFlag("bos", true, overwrite: true)
                        setFlag("eos", true, overwrite: true)
                        setFlag("sep", true, overwrite: true)
                        if !(cls?.isTruthy ?? false), configIsTruthy,
                           let first = processor["cls"]?.array?.first?.string ?? bos?.string
                        {
                            cls = .string(first); setConfig("cls_token", first)
                        }
                        if !(sep?.isTruthy ?? false), configIsTruthy,
                           let first = processor["sep"]?.array?.first?.string ?? eos?.string
                        {
                            sep = .string(first); setConfig("sep_token", first)
                        }
                    case "TemplateProcessing":
                        templateProcessing(processor, configIsTruthy: configIsTruthy, bos: &bos, cls: &cls, eos: &eos, sep: &sep,
                                           setConfig: setConfig)
                    default: break
                    }
                }
            }
        }
        if let tokenizerConfig, tokenizerConfig.isTruthy {
            try loadTemplate(directory: directory, tokenizerConfig: tokenizerConfig, path: path)
            for type in types {
                if let add = tokenizerConfig["add_\(type)_token"]?.bool { setFlag(type, add, overwrite: false) }
                guard let content = configString("\(type)_token") else { continue }
                let id = addedTokens.first { $0["content"]?.string == content }?["id"]
                setID(type, id)
            }
        }
        for type in types {
            var id = config[type + "_token_id"]
            if id == nil || id?.isNull == true { id = config["text_config"]?[type + "_token_id"] }
            setID(type, id)
        }
    }

    /// The crude `TemplateProcessing` reading gguf-py does to find whether BOS, EOS and SEP are added.
    private mutating func templateProcessing(
        _ processor: JSONValue, configIsTruthy: Bool, bos: inout JSONValue?, cls: inout JSONValue?, eos: inout JSONValue?,
        sep: inout JSONValue?, setConfig: (String, String) -> Void
    ) {
        let single = processor["single"]?.array ?? []
        var pair = processor["pair"]?.array ?? []
        func specialID(_ item: JSONValue?) -> String? { item?["SpecialToken"]?["id"]?.string }
        func isOneOf(_ s: String, _ values: JSONValue?...) -> Bool { values.contains { $0?.string == s } }
        var first: String?
        var last: String?
        if single.count > 1 {
            first = specialID(single.first).flatMap { $0.isEmpty ? nil : $0 }
            if let first {
                if !configIsTruthy {
                    bos = .string(first)
                } else if !isOneOf(first, bos, cls) {
                    if !(bos?.isTruthy ?? false) { setConfig("bos_token", first); bos = .string(first) }
                    if !(cls?.isTruthy ?? false) { setConfig("cls_token", first); cls = .string(first) }
                }
                setFlag("bos", isOneOf(first, bos, cls), overwrite: true)
            }
            last = specialID(single.last).flatMap { $0.isEmpty ? nil : $0 }
            if let last {
                if !configIsTruthy {
                    eos = .string(last)
                } else if eos?.string != last {
                    if !types.contains("eot") {
                        types.append("eot")
                        if let e = eos?.string { setConfig("eot_token", e) }
                    } else if !types.contains("eom") {
                        types.append("eom")
                        if let e = eos?.string { setConfig("eom_token", e) }
                    }
                    setConfig("eos_token", last)
                    eos = .string(last)
                }
                setFlag("eos", eos?.string == last, overwrite: true)
            }
        }
        guard !pair.isEmpty else { return }
        let start = first != nil && specialID(pair.first) == first ? 1 : 0
        let stop = last != nil && specialID(pair.last) == last ? pair.count - 1 : pair.count
        pair = start < stop ? Array(pair[start..<stop]) : []
        guard !pair.isEmpty else { return }
        let a = pair.first?["Sequence"]?["id"]?.string
        let b = pair.last?["Sequence"]?["id"]?.string
        guard a == "A", b == "B", pair.count > 2 else { return }
        let middle = Array(pair[1..<(pair.count - 1)])
        var addSep = false
        if let entry = specialID(middle.first), !entry.isEmpty {
            if isOneOf(entry, sep, eos), last == nil { addSep = true }
        }
        if middle.count == 2, let entry = specialID(middle[1]), !entry.isEmpty, isOneOf(entry, sep, eos) {
            addSep = true
        }
        setFlag("sep", addSep, overwrite: true)
        if addSep, !(sep?.isTruthy ?? false), configIsTruthy, let e = eos?.string { setConfig("sep_token", e) }
    }

    /// The chat template: `tokenizer_config.json`'s `chat_template`, else `chat_template.jinja`
    /// (with `additional_chat_templates/*.jinja` as named ones), else `chat_template.json`.
    private mutating func loadTemplate(directory: String, tokenizerConfig: JSONValue, path: (String) -> String)
        throws(ModelQuantizationError)
    {
        func read(_ file: String) throws(ModelQuantizationError) -> String {
            do { return try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw .invalidFile(path: file, reason: "cannot read as UTF-8: \(error.localizedDescription)")
            }
        }
        var alternative: ChatTemplate?
        let jinja = path("chat_template.jinja")
        if FileManager.default.fileExists(atPath: jinja) {
            let main = try read(jinja)
            let extraDirectory = path("additional_chat_templates")
            let extras = ((try? FileManager.default.contentsOfDirectory(atPath: extraDirectory)) ?? [])
                .filter { $0.hasSuffix(".jinja") }.sorted()
            if extras.isEmpty {
                alternative = .single(main)
            } else {
                var named: [(name: String, template: String)] = [("default", main)]
                for file in extras {
                    named.append((String(file.dropLast(6)), try read(extraDirectory + "/" + file)))
                }
                alternative = .named(named)
            }
        } else if let json = try JSONValue.file(path("chat_template.json")), let template = json["chat_template"] {
            alternative = Self.template(template)
        }
        if let value = tokenizerConfig["chat_template"] {
            chatTemplate = value.isNull ? nil : Self.template(value)
        } else {
            chatTemplate = alternative
        }
    }

    private static func template(_ value: JSONValue) -> ChatTemplate? {
        if let s = value.string { return .single(s) }
        guard let list = value.array else { return nil }
        return .named(list.compactMap { item in
            guard let template = item["template"]?.string else { return nil }
            return (item["name"]?.string ?? "", template)
        })
    }

    /// `SpecialVocab.add_to_gguf`: ids, then `add_*` flags, the chat template, the normalizer.
    func add(to writer: inout MetadataBuilder) {
        if !merges.isEmpty { writer.add("tokenizer.ggml.merges", .array(.string(merges))) }
        let idKeys = [
            "bos": "bos_token_id", "eos": "eos_token_id", "unk": "unknown_token_id", "sep": "seperator_token_id",
            "pad": "padding_token_id", "mask": "mask_token_id", "eot": "eot_token_id", "eom": "eom_token_id",
        ]
        for (type, id) in ids {
            // gguf-py has no writer for the others (cls), and skips them.
            guard let key = idKeys[type] else { continue }
            writer.add("tokenizer.ggml." + key, .uint32(UInt32(id)))
        }
        for (type, value) in addFlags where ["bos", "eos", "sep"].contains(type) {
            writer.add("tokenizer.ggml.add_\(type)_token", .bool(value))
        }
        switch chatTemplate {
        case let .single(template)?:
            writer.add("tokenizer.chat_template", .string(template))
        case let .named(list)?:
            var names: [String] = []
            var defaultTemplate: String?
            for (rawName, template) in list {
                let name = String(rawName.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
                guard !name.isEmpty else { continue }
                if name == "default" {
                    defaultTemplate = template
                } else {
                    if !names.contains(name) { names.append(name) }
                    writer.add("tokenizer.chat_template.\(name)", .string(template))
                }
            }
            if !names.isEmpty { writer.add("tokenizer.chat_templates", .array(.string(names))) }
            if let defaultTemplate { writer.add("tokenizer.chat_template", .string(defaultTemplate)) }
        case nil:
            break
        }
        if let lowercase { writer.add("tokenizer.ggml.normalizer.lowercase", .bool(lowercase)) }
        if let stripAccents { writer.add("tokenizer.ggml.normalizer.strip_accents", .bool(stripAccents)) }
    }
}
