import ArgumentParser
import Foundation
import Transformer

struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a prompt through a model and print the top-K logits of its last position.",
        discussion: """
            The prompt is tokenized as llama.cpp does for a raw prompt: special tokens such as \
            <|im_start|> are parsed, and BOS is added when the vocabulary asks for it. --ids skips the \
            tokenizer and feeds the ids as given. The whole prompt runs as one batched pass. \
            --greedy N then decodes N tokens, each the argmax of the previous logits, and prints \
            their ids (the top-K then belongs to the last position of prompt + continuation). \
            --follow IDS instead feeds the given ids one at a time after the prompt (teacher forcing) \
            and, with --json, prints the top-K before each of them as "steps".
            """
    )

    @Option(help: "A .gguf file or a Hugging Face directory (config.json + safetensors).")
    var model: String

    @Option(help: "The prompt text.")
    var prompt: String?

    @Option(help: "The prompt as a JSON array of token ids, e.g. [1, 15043].")
    var ids: String?

    @Option(help: "How many of the highest logits to print.")
    var top = 10

    @Option(help: "After the prompt, decode this many tokens greedily and print their ids.")
    var greedy = 0

    @Option(help: "After the prompt, decode these ids (a JSON array) one at a time; --json prints the top-K before each.")
    var follow: String?

    @Option(help: "Cap the KV cache at this many positions (default: prompt + continuation).")
    var maxContext: Int?

    @Option(help: "Rounding to follow: auto (llama.cpp's for quantized GGUF files), exact (float32, as transformers), llamacpp.")
    var numerics: NumericsChoice = .auto

    @Option(help: "KV cache precision: f32, or f16 to round keys and values as llama.cpp's default cache does.")
    var kvCache: KVChoice = .f32

    @Flag(help: "Print one JSON object: {\"prompt_ids\": [...], \"greedy_ids\": [...], \"top\": [{\"id\", \"logit\"}]}.")
    var json = false

    func validate() throws {
        if (prompt == nil) == (ids == nil) { throw ValidationError("give either --prompt or --ids") }
        if top < 1 { throw ValidationError("--top must be at least 1") }
        if greedy < 0 { throw ValidationError("--greedy must not be negative") }
        if follow != nil, greedy > 0 { throw ValidationError("give at most one of --greedy and --follow") }
    }

    func run() throws {
        var texts: ((Int) -> String?)?
        let promptIDs: [Int]
        if let ids {
            promptIDs = try Detokenize.parseIDs(ids)
        } else {
            let tokenizer = try TokenizerLoader.load(model)
            promptIDs = tokenizer.encode(prompt ?? "", addSpecial: true, parseSpecial: true)
            texts = { tokenizer.tokenText($0) }
        }
        guard !promptIDs.isEmpty else { throw CommandError("the prompt has no tokens") }
        let followed = try follow.map { try Detokenize.parseIDs($0) } ?? []

        // The cache only needs the positions this run uses; a model's full context can be GBs.
        let options = ModelOptions(maxContextLength: maxContext ?? promptIDs.count + greedy + followed.count,
                                   numerics: numerics.value, kvCachePrecision: kvCache.value)
        let lm: TransformerModel
        do { lm = try loadModel(path: model, options: options) } catch {
            throw CommandError("\(model): \(error.description)")
        }
        var logits: [Float]
        var continuation: [Int] = []
        var steps: [[(id: Int, logit: Float)]] = []
        do {
            logits = try lm.prefill(tokens: promptIDs)
            for _ in 0..<greedy {
                let next = Self.topK(logits, 1).first?.id ?? 0
                continuation.append(next)
                try lm.decode(token: next, into: &logits)
            }
            for next in followed {
                steps.append(Self.topK(logits, top))
                try lm.decode(token: next, into: &logits)
            }
        } catch {
            throw CommandError(error.description)
        }
        let best = Self.topK(logits, top)
        if json {
            var fields: [(String, JSON)] = [("prompt_ids", .array(promptIDs.map { .int($0) }))]
            if greedy > 0 { fields.append(("greedy_ids", .array(continuation.map { .int($0) }))) }
            if follow != nil {
                fields.append(("steps", .array(steps.map { step in
                    .array(step.map { .object([("id", .int($0.id)), ("logit", .float($0.logit))]) })
                })))
            }
            fields.append(("top", .array(best.map { entry in
                var o: [(String, JSON)] = [("id", .int(entry.id)), ("logit", .float(entry.logit))]
                if let text = texts?(entry.id) { o.append(("text", .string(text))) }
                return .object(o)
            })))
            print(JSON.object(fields).serialized)
        } else {
            print("prompt: \(promptIDs.count) tokens")
            if greedy > 0 { print("greedy: \(JSON.array(continuation.map { .int($0) }).serialized)") }
            for (rank, entry) in best.enumerated() {
                let text = texts?(entry.id).map { "  " + JSON.string($0).serialized } ?? ""
                print("\(rank + 1)\t\(entry.id)\t\(entry.logit)\(text)")
            }
        }
    }

    /// The `k` highest logits, highest first; ties go to the lower id, as argmax does.
    static func topK(_ logits: [Float], _ k: Int) -> [(id: Int, logit: Float)] {
        let ranked = logits.enumerated().sorted { a, b in
            a.element != b.element ? a.element > b.element : a.offset < b.offset
        }
        return ranked.prefix(k).map { (id: $0.offset, logit: $0.element) }
    }
}

enum NumericsChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, exact, llamacpp
    var value: Numerics {
        switch self {
        case .auto: return .automatic
        case .exact: return .exact
        case .llamacpp: return .llamaCpp
        }
    }
}

enum KVChoice: String, ExpressibleByArgument, CaseIterable {
    case f32, f16
    var value: KVCachePrecision { self == .f32 ? .float32 : .float16 }
}
