import Foundation
import Tensor
import Tokenizer
import Transformer

/// A model ready to answer requests: weights, tokenizer, chat template and end tokens.
///
/// `base` is never run: each request forks it (sharing the memory-mapped weights) and generates
/// in the fork, so requests for one model can run at the same time. That invariant — `base` is
/// only ever read — is what makes the type `Sendable`.
final class LoadedModel: @unchecked Sendable {
    /// The file or directory it was loaded from.
    let path: String
    private let base: TransformerModel
    let tokenizer: Tokenizer
    /// The chat template and the BOS/EOS texts it renders with, when the model has one.
    let template: (ChatTemplate, ChatTemplateSource)?
    /// The text of the tokenizer's BOS token ("" when it has none): a prompt that starts with it
    /// gets no second BOS.
    let bosText: String
    /// Every id that ends generation: the tokenizer's end-of-generation ids, the ids of
    /// `generation_config.json`'s `eos_token_id`, and the model family's extra end tokens.
    let endTokenIDs: Set<Int>
    /// Seconds the load took.
    let loadSeconds: Double

    var contextLength: Int { base.contextLength }
    var vocabularySize: Int { base.vocabularySize }

    /// Loads `path` (a GGUF file or a Hugging Face directory).
    init(path: String, options: ModelOptions) throws(GenerateError) {
        let start = DispatchTime.now().uptimeNanoseconds
        self.path = path
        do { base = try loadModel(path: path, options: options) } catch {
            throw .modelLoadFailed(path: path, reason: error.description)
        }
        let resources = try ModelResources(path: path)
        tokenizer = resources.tokenizer
        bosText = resources.tokenizer.bosID.flatMap(resources.tokenizer.tokenText) ?? ""
        if let source = resources.template {
            do { template = (try ChatTemplate(source: source.template), source) } catch {
                throw .templateFailed(model: path, reason: error.description)
            }
        } else {
            template = nil
        }
        let tokenizer = resources.tokenizer
        var ends = Set(tokenizer.endOfGenerationIDs)
        if let eos = tokenizer.eosID { ends.insert(eos) }
        ends.formUnion(resources.extraEndIDs.filter { $0 >= 0 && $0 < tokenizer.vocabularySize })
        // Phi-3's generation_config also ends on <|assistant|> (a model that starts a new turn is done).
        if base.config.architecture == .phi3 {
            let ids = tokenizer.encode("<|assistant|>", parseSpecial: true)
            if ids.count == 1, tokenizer.tokenType(ids[0]) == .control { ends.insert(ids[0]) }
        }
        endTokenIDs = ends
        loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// A new sequence with an empty cache, sharing this model's weights.
    func makeSequence(flag: CancellationFlag) throws(GenerateError) -> GenerationSequence {
        do { return GenerationSequence(model: try base.fork(), flag: flag) } catch {
            throw .inference(reason: error.description)
        }
    }
}
