import Foundation
import JSON
import ModelFormats
import Tokenizer

/// What a model carries besides its weights: the tokenizer, the chat template with the BOS/EOS
/// texts it is rendered with, and extra end-of-generation ids.
struct ModelResources {
    var tokenizer: Tokenizer
    /// `nil` when the model has no chat template.
    var template: ChatTemplateSource?
    /// `generation_config.json`'s `eos_token_id` (Hugging Face directories only).
    var extraEndIDs: [Int]

    /// Reads them from `model`, the value the weights were loaded from: a GGUF file's metadata is
    /// not parsed again.
    init(model: ModelSource) throws(GenerateError) {
        do { tokenizer = try Tokenizer(model: model) } catch {
            throw .tokenizerLoadFailed(path: model.path, reason: error.description)
        }
        do { template = try ChatTemplate.source(model: model, tokenizer: tokenizer) } catch {
            guard case .templateNotFound = error else {
                throw .templateFailed(model: model.path, reason: error.description)
            }
            template = nil
        }
        extraEndIDs = []
        if case let .huggingFace(directory, _) = model.kind {
            let eos = Self.json(at: directory + "/generation_config.json")?["eos_token_id"]
            if let id = eos?.integer {
                extraEndIDs = [id]
            } else if let ids = eos?.array {
                extraEndIDs = ids.compactMap(\.integer)
            }
        }
    }

    /// The file at `path` as JSON, or `nil` when it is missing or not JSON (an optional file).
    private static func json(at path: String) -> JSONValue? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONValue(parsing: data)
    }
}
