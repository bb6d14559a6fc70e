import Foundation
import Jinja
import ModelFormats
import Tokenizer

/// A model's chat template with the special-token texts its renders need.
public struct ChatTemplateSource: Sendable, Equatable {
    /// The Jinja source.
    public var template: String
    /// The text of the BOS token (`bos_token` in the template), "" when the model has none.
    public var bosToken: String
    /// The text of the EOS token (`eos_token` in the template), "" when the model has none.
    public var eosToken: String

    public init(template: String, bosToken: String, eosToken: String) {
        self.template = template
        self.bosToken = bosToken
        self.eosToken = eosToken
    }
}

extension ChatTemplate {
    /// Reads the chat template of the model at `path`: ``source(model:tokenizer:)`` on the
    /// `ModelSource` of `path`.
    ///
    /// A path that holds no model, and a model without a template, throw
    /// `TemplateError.templateNotFound`.
    public static func source(modelPath path: String) throws(TemplateError) -> ChatTemplateSource {
        let model: ModelSource
        do { model = try ModelSource(path: path) } catch { throw .templateNotFound(message: error.description) }
        return try source(model: model)
    }

    /// Reads the chat template of an opened model: a GGUF file's `tokenizer.chat_template` (from
    /// the metadata `model` parsed), or a Hugging Face directory's (`chat_template.jinja`, or
    /// `chat_template` in `tokenizer_config.json`: a string, or a list of `{name, template}` of
    /// which `default` is taken; `bos_token` / `eos_token` as strings or `{"content": ...}` objects).
    ///
    /// A GGUF model's BOS and EOS texts are those of `tokenizer`, the model's own, when the caller
    /// has it (its ids include llama.cpp's defaults for absent keys, as llama.cpp renders
    /// templates with them); without it, those of the ids in `tokenizer.ggml.*_token_id`.
    ///
    /// A model without a template throws `TemplateError.templateNotFound`.
    public static func source(model: ModelSource, tokenizer: Tokenizer? = nil) throws(TemplateError) -> ChatTemplateSource {
        switch model.kind {
        case let .gguf(file): return try ggufSource(file, tokenizer: tokenizer)
        case let .huggingFace(directory, _): return try huggingFaceSource(directory: directory)
        }
    }

    private static func ggufSource(_ file: GGUFFile, tokenizer: Tokenizer?) throws(TemplateError) -> ChatTemplateSource {
        let metadata = file.metadata
        guard let template = metadata.string("tokenizer.chat_template") else {
            throw .templateNotFound(message: "\(file.path): the GGUF file has no tokenizer.chat_template")
        }
        if let tokenizer {
            // "" when the vocabulary has no such token, as llama.cpp passes them.
            return ChatTemplateSource(template: template, bosToken: tokenizer.bosID.flatMap(tokenizer.tokenText) ?? "",
                                      eosToken: tokenizer.eosID.flatMap(tokenizer.tokenText) ?? "")
        }
        // One token's text, without turning the whole vocabulary into `String`s.
        let tokens = metadata.stringArrayBytes("tokenizer.ggml.tokens")
        func text(_ key: String) -> String {
            guard let id = metadata.int(key) else { return "" }
            if let tokens { return tokens.string(id) ?? "" }
            return metadata.array("tokenizer.ggml.tokens")?.element(id)?.stringValue ?? ""
        }
        return ChatTemplateSource(template: template, bosToken: text("tokenizer.ggml.bos_token_id"),
                                  eosToken: text("tokenizer.ggml.eos_token_id"))
    }

    private static func huggingFaceSource(directory: String) throws(TemplateError) -> ChatTemplateSource {
        let dir = URL(fileURLWithPath: directory)
        var config: [(key: String, value: TemplateValue)] = []
        let configURL = dir.appendingPathComponent("tokenizer_config.json")
        if let data = FileManager.default.contents(atPath: configURL.path) {
            guard case let .object(members) = try TemplateValue(json: data) else {
                throw .templateNotFound(message: "\(configURL.path): not a JSON object")
            }
            config = members
        }
        func member(_ key: String) -> TemplateValue? { config.last(where: { $0.key == key })?.value }
        func tokenText(_ key: String) -> String {
            switch member(key) {
            case let .string(s)?: return s
            case let .object(o)?:
                if case let .string(s)? = o.first(where: { $0.key == "content" })?.value { return s }
                return ""
            default: return ""
            }
        }
        var template: String?
        let jinjaURL = dir.appendingPathComponent("chat_template.jinja")
        if let data = FileManager.default.contents(atPath: jinjaURL.path) {
            guard let s = String(validating: data, as: UTF8.self) else {
                throw .templateNotFound(message: "\(jinjaURL.path): not valid UTF-8")
            }
            template = s
        } else {
            switch member("chat_template") {
            case let .string(s)?: template = s
            case let .array(entries)?:
                for case let .object(e) in entries {
                    guard case .string("default")? = e.first(where: { $0.key == "name" })?.value,
                          case let .string(s)? = e.first(where: { $0.key == "template" })?.value else { continue }
                    template = s
                }
            default: break
            }
        }
        guard let template else {
            throw .templateNotFound(message: "\(directory): no chat_template.jinja and no chat_template in tokenizer_config.json")
        }
        return ChatTemplateSource(template: template, bosToken: tokenText("bos_token"), eosToken: tokenText("eos_token"))
    }
}
