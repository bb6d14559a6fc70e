import Foundation
import Tensor
import Tokenizer

/// What a model file carries besides its weights: the tokenizer, the chat template and the BOS/EOS
/// texts it is rendered with, and extra end-of-generation ids.
struct ModelResources {
    var tokenizer: Tokenizer
    var templateSource: String?
    var bosText: String
    var eosText: String
    /// `generation_config.json`'s `eos_token_id` (Hugging Face directories only).
    var extraEndIDs: [Int]

    init(path: String) throws(GenerateError) {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue {
            do { tokenizer = try Tokenizer(huggingFaceDirectory: path) } catch {
                throw .tokenizerLoadFailed(path: path, reason: error.description)
            }
            let config = Self.jsonObject(at: path + "/tokenizer_config.json")
            templateSource = Self.template(in: config?["chat_template"])
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
            templateSource = file.metadata.string("tokenizer.chat_template")
            extraEndIDs = []
        }
        // Templates get the special tokens' texts; llama.cpp and transformers pass "" when absent.
        bosText = tokenizer.bosID.flatMap(tokenizer.tokenText) ?? ""
        eosText = tokenizer.eosID.flatMap(tokenizer.tokenText) ?? ""
    }

    /// `chat_template` is a string, or a list of `{"name", "template"}` of which `default` is used.
    private static func template(in value: Any?) -> String? {
        if let text = value as? String { return text }
        guard let list = value as? [[String: Any]] else { return nil }
        let named = list.first { ($0["name"] as? String) == "default" } ?? list.first
        return named?["template"] as? String
    }

    private static func jsonObject(at path: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}
