import Foundation
import ModelFormats
import Sampling
import Tensor
import Tokenizer
import Transformer

/// A model ready to answer requests: weights, tokenizer, chat template and end tokens.
///
/// `base` holds no sequence: each request's sequences are new sequences of its weights in its KV
/// memory, and only the scheduler's step thread runs `base` (as the lead of every batched pass).
/// That invariant is what makes the type `Sendable`.
final class LoadedModel: @unchecked Sendable {
    /// The file or directory it was loaded from.
    let path: String
    private let base: TransformerModel
    /// Runs every request's sequences in shared forward passes.
    let scheduler: BatchScheduler
    /// Admits requests to the scheduler while their sequences and KV memory fit.
    let admission: AdmissionQueue
    let limits: BatchingLimits
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
    init(path: String, options: ModelOptions, limits: BatchingLimits = .init()) throws(GenerateError) {
        let start = DispatchTime.now().uptimeNanoseconds
        try limits.validate()
        self.path = path
        // Opened once: the weights, the tokenizer and the template all read this value.
        let model: ModelSource
        do { model = try ModelSource(path: path) } catch {
            throw .modelLoadFailed(path: path, reason: error.description)
        }
        do { base = try loadModel(model, options: options) } catch {
            throw .modelLoadFailed(path: path, reason: error.description)
        }
        self.limits = limits
        scheduler = BatchScheduler(lead: base, limits: limits)
        admission = AdmissionQueue(
            capacity: AdmissionCost(sequences: limits.maxBatchSequences, blocks: base.kvBlockPool.blockCount),
            maxWaiting: limits.maxQueue)
        let resources = try ModelResources(model: model)
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
        // Control tokens the architecture's generation config also ends on (Phi-3's <|assistant|>).
        for text in base.config.architecture.endOfTurnTexts {
            let ids = tokenizer.encode(text, parseSpecial: true)
            if ids.count == 1, tokenizer.tokenType(ids[0]) == .control { ends.insert(ids[0]) }
        }
        endTokenIDs = ends
        loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// A new sequence with an empty cache in this model's KV memory, run by its scheduler.
    func makeSequence(flag: CancellationFlag) throws(GenerateError) -> GenerationSequence {
        do { return GenerationSequence(model: try base.emptySequence(), scheduler: scheduler, flag: flag) } catch {
            throw .inference(reason: error.description)
        }
    }

    /// What a request holds while it runs: its candidates (best_of, or the beam width) and, for
    /// its worst case, the prompt's blocks plus, for each candidate, blocks for max_tokens more
    /// positions and the copy of the prompt's last block. Beam search holds twice the beams for a
    /// moment (the old ones and their children), so it reserves twice.
    /// - Throws: ``GenerateError/invalidField(field:reason:)`` when the request could never fit.
    func admissionCost(promptTokens: Int, parameters: SamplingParameters) throws(GenerateError) -> AdmissionCost {
        let candidates = parameters.effective.effectiveBestOf
        let holders = parameters.useBeamSearch ? 2 * candidates : candidates
        // max_tokens is checked against the context before this, so the products are small; none
        // is vLLM's None, up to the context.
        let maxTokens = parameters.maxTokens ?? max(1, contextLength - promptTokens + 1)
        let own = KVBlockPool.blocks(forPositions: maxTokens + 1) + 1
        let cost = AdmissionCost(sequences: candidates, blocks: KVBlockPool.blocks(forPositions: promptTokens) + holders * own)
        guard cost.sequences <= admission.capacity.sequences else {
            throw .invalidField(field: parameters.bestOf == nil ? "n" : "best_of",
                                reason: "\(cost.sequences) sequences exceed the server's \(admission.capacity.sequences) per batch")
        }
        guard cost.blocks <= admission.capacity.blocks else {
            let mib = { (blocks: Int) in (blocks * self.blockBytes + (1 << 20) - 1) >> 20 }
            throw .invalidField(field: "max_tokens",
                                reason: "the prompt and \(candidates) × \(maxTokens) tokens need up to \(mib(cost.blocks)) MiB of KV cache; the model has \(mib(admission.capacity.blocks)) MiB")
        }
        return cost
    }

    private let vocabularyLock = NSLock()
    private var vocabularyStorage: TokenVocabulary?

    /// The tokens as the bytes they add to the output, with their prefix tree: what constrained
    /// output masks. Built on first use, once per model.
    var tokenVocabulary: TokenVocabulary {
        vocabularyLock.withLock {
            if let v = vocabularyStorage { return v }
            let v = Self.vocabulary(of: tokenizer)
            vocabularyStorage = v
            return v
        }
    }

    /// `tokenizer`'s vocabulary as constrained output masks it (``Sampling/TokenVocabulary/init(tokenizer:)``).
    static func vocabulary(of tokenizer: Tokenizer) -> TokenVocabulary {
        TokenVocabulary(tokenizer: tokenizer)
    }

    private let promptCountLock = NSLock()
    private var cachedPromptTokens = 0, computedPromptTokens = 0

    /// Prompt tokens reused from the prefix cache and computed, over every request so far.
    var promptCounts: (cached: Int, computed: Int) {
        promptCountLock.withLock { (cachedPromptTokens, computedPromptTokens) }
    }

    func countPrompt(tokens: Int, cached: Int) {
        promptCountLock.withLock {
            cachedPromptTokens += cached
            computedPromptTokens += tokens - cached
        }
    }

    /// The KV memory every request's sequences share.
    var kvBlockPool: KVBlockPool { base.kvBlockPool }

    private var blockBytes: Int {
        let pool = base.kvBlockPool
        return KVBlockPool.blockBytes(layers: pool.layers, width: pool.width, halfPrecision: pool.halfPrecision)
    }
}

extension TokenVocabulary {
    /// The vocabulary of `tokenizer` as constrained output masks it: each token's rendering
    /// (byte-level BPE's mapped characters and SentencePiece's `▁` and `<0xNN>` turned into their
    /// real bytes); control, unknown and unused tokens render as nothing, so a constraint never
    /// picks them (the end tokens are added where the grammar may end).
    public convenience init(tokenizer: Tokenizer) {
        var tokens: [[UInt8]?] = []
        tokens.reserveCapacity(tokenizer.vocabularySize)
        for id in 0 ..< tokenizer.vocabularySize {
            switch tokenizer.tokenType(id) {
            case .normal?, .userDefined?, .byte?: tokens.append(try? tokenizer.pieceBytes(id, skipSpecial: true))
            default: tokens.append(nil)
            }
        }
        self.init(tokens: tokens)
    }
}
