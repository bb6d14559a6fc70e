import Foundation
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
            switch Self.jsonObject(at: directory + "/generation_config.json")?["eos_token_id"] {
            case let id as Int: extraEndIDs = [id]
            case let ids as [Any]: extraEndIDs = ids.compactMap { $0 as? Int }
            default: break
            }
        }
    }

    private static func jsonObject(at path: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}
