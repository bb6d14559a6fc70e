import Foundation
import ModelFormats
import Tensor
import Tokenizer

/// What a model file carries besides its weights: the tokenizer, the chat template with the BOS/EOS
/// texts it is rendered with, and extra end-of-generation ids.
struct ModelResources {
    var tokenizer: Tokenizer
    /// `nil` when the model has no chat template.
    var template: ChatTemplateSource?
    /// `generation_config.json`'s `eos_token_id` (Hugging Face directories only).
    var extraEndIDs: [Int]

    init(path: String) throws(GenerateError) {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue {
            do { tokenizer = try Tokenizer(huggingFaceDirectory: path) } catch {
                throw .tokenizerLoadFailed(path: path, reason: error.description)
            }
            do { template = try ChatTemplate.source(modelPath: path) } catch {
                guard case .templateNotFound = error else {
                    throw .templateFailed(model: path, reason: error.description)
                }
                template = nil
            }
            let generation = Self.jsonObject(at: path + "/generation_config.json")
            switch generation?["eos_token_id"] {
            case let id as Int: extraEndIDs = [id]
            case let ids as [Any]: extraEndIDs = ids.compactMap { $0 as? Int }
            default: extraEndIDs = []
            }
        } else {
            let file: GGUFFile
            do { file = try GGUFFile(path: path) } catch { throw .tokenizerLoadFailed(path: path, reason: error.description) }
            do { tokenizer = try Tokenizer(gguf: file.metadata) } catch {
                throw .tokenizerLoadFailed(path: path, reason: error.description)
            }
            // The file is open already: read the template here rather than through
            // ChatTemplate.source(modelPath:), which would parse the metadata again.
            let tokenizer = self.tokenizer
            template = file.metadata.string("tokenizer.chat_template").map {
                // Templates get the special tokens' texts; "" when absent, as llama.cpp passes them.
                ChatTemplateSource(template: $0, bosToken: tokenizer.bosID.flatMap(tokenizer.tokenText) ?? "",
                                   eosToken: tokenizer.eosID.flatMap(tokenizer.tokenText) ?? "")
            }
            extraEndIDs = []
        }
    }

    private static func jsonObject(at path: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}
