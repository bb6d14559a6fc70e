import Foundation
import Jinja
import ModelFormats
import Tensor

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
    /// Reads the chat template of a model: a `.gguf` file (`tokenizer.chat_template`, with the BOS and
    /// EOS texts from `tokenizer.ggml.tokens`) or a Hugging Face directory (`chat_template.jinja`, or
    /// `chat_template` in `tokenizer_config.json`: a string, or a list of `{name, template}` of which
    /// `default` is taken; `bos_token` / `eos_token` as strings or `{"content": ...}` objects).
    ///
    /// A model without a template throws `TemplateError.templateNotFound`.
    public static func source(modelPath path: String) throws(TemplateError) -> ChatTemplateSource {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .templateNotFound(message: "\(path): no such file or directory")
        }
        return isDirectory.boolValue ? try huggingFaceSource(directory: path) : try ggufSource(path: path)
    }

    private static func ggufSource(path: String) throws(TemplateError) -> ChatTemplateSource {
        let metadata: GGUFMetadata
        do { metadata = try GGUFFile(path: path).metadata } catch {
            throw .templateNotFound(message: "\(path): \(error.description)")
        }
        guard let template = metadata.string("tokenizer.chat_template") else {
            throw .templateNotFound(message: "\(path): the GGUF file has no tokenizer.chat_template")
        }
        let tokens = metadata.array("tokenizer.ggml.tokens")
        func text(_ key: String) -> String {
            guard let id = metadata.int(key), let t = tokens?.element(id)?.stringValue else { return "" }
            return t
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
