import ArgumentParser
import Foundation
import Tensor
import Transformer

/// `sparrow bench`: prompt processing and text generation speed, measured as llama-bench measures
/// them, so the two engines' numbers compare directly.
///
/// - pp: `-p` random token ids run through the model as one batched prefill from an empty cache.
/// - tg: `-n` random token ids decoded one at a time from an empty cache, as llama-bench's
///   generation test does.
///
/// Each test runs once as a warm-up (not counted), then `-r` times; tokens/s are reported as the
/// mean ± sample standard deviation over the repetitions.
///
/// With `--batch B`, as llama-batched-bench measures: B sequences (the model and B − 1 forks), each
/// with its own `-p` random prompt tokens, prefilled in one forward pass, then `-n` passes of one
/// token per sequence. pp = B·p / prefill time and tg = B·n / decode time.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure prompt processing (pp) and text generation (tg) speed in tokens/s, as llama-bench does.",
        discussion: """
            pp: -p random token ids in one batched prefill from an empty cache. tg: -n single-token \
            decode steps from an empty cache. One warm-up run of each is excluded; the mean ± sd of \
            -r runs is printed. -p 0 or -n 0 skips that test.
            """
    )

    @Option(help: "A .gguf file or a Hugging Face directory (config.json + safetensors).")
    var model: String

    @Option(name: .short, help: "Prompt tokens for the pp test (0 skips it).")
    var p = 128

    @Option(name: .short, help: "Generated tokens for the tg test (0 skips it).")
    var n = 64

    @Option(name: .short, help: "Worker threads (default: the engine's default, 2).")
    var t: Int?

    @Option(name: .short, help: "Repetitions after the warm-up.")
    var r = 3

    @Option(help: "Sequences run together (llama-batched-bench's B); 0 runs the single-sequence tests.")
    var batch = 0

    @Option(help: "KV cache precision: f32, or f16 (as llama.cpp's default cache).")
    var kvCache: KVChoice = .f16

    @Option(help: "Rounding to follow: auto (llama.cpp's for quantized GGUF files), exact, llamacpp.")
    var numerics: NumericsChoice = .auto

    @Flag(help: "Print one JSON object: {\"pp_tokens_per_s\", \"pp_sd\", \"tg_tokens_per_s\", \"tg_sd\", ...}.")
    var json = false

    func validate() throws {
        if p < 0 || n < 0 { throw ValidationError("-p and -n must not be negative") }
        if p == 0 && n == 0 { throw ValidationError("nothing to measure: -p and -n are both 0") }
        if r < 1 { throw ValidationError("-r must be at least 1") }
        if let t, t < 1 || t > 256 { throw ValidationError("-t must be in 1...256") }
        if batch < 0 || batch > 256 { throw ValidationError("--batch must be in 0...256") }
    }

    func run() async throws {
        let path = try await HubModels.path(for: model) ?? model
        var options = ModelOptions(maxContextLength: batch > 0 ? max(p + n, 1) : max(p, n, 1),
                                   prefillBatchSize: max(p, 1),
                                   numerics: numerics.value, kvCachePrecision: kvCache.value)
        if let t { options.threadCount = t }
        let lm: TransformerModel
        do { lm = try loadModel(path: path, options: options) } catch {
            throw CommandError("\(model): \(error.description)")
        }
        let vocab = lm.vocabularySize
        // llama-bench's token ids: uniformly random over the vocabulary, fixed seed.
        var rng = SplitMix(seed: 1234)
        func randomTokens(_ count: Int) -> [Int] { (0..<count).map { _ in Int(rng.next() % UInt64(vocab)) } }

        var ppRates: [Double] = [], tgRates: [Double] = []
        do {
            if batch > 0 {
                (ppRates, tgRates) = try runBatched(lm, randomTokens: randomTokens)
            }
            if batch == 0, p > 0 {
                let tokens = randomTokens(p)
                for rep in 0...r {
                    lm.reset()
                    let start = DispatchTime.now().uptimeNanoseconds
                    _ = try lm.prefill(tokens: tokens)
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    if rep > 0 { ppRates.append(Double(p) / seconds) }
                }
            }
            if batch == 0, n > 0 {
                let tokens = randomTokens(n)
                var logits = [Float](repeating: 0, count: vocab)
                for rep in 0...r {
                    lm.reset()
                    let start = DispatchTime.now().uptimeNanoseconds
                    for i in 0..<n {
                        try lm.decode(token: tokens[i], into: &logits)
                    }
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    if rep > 0 { tgRates.append(Double(n) / seconds) }
                }
            }
        } catch {
            throw CommandError(error.description)
        }
        let pp = Self.meanSD(ppRates), tg = Self.meanSD(tgRates)
        let threads = options.threadCount
        if json {
            var fields: [(String, JSON)] = [("model", .string(model)), ("threads", .int(threads)),
                                            ("repetitions", .int(r)), ("isa", .string(InstructionSet.best.description))]
            if batch > 0 { fields.append(("batch", .int(batch))) }
            if p > 0 {
                fields += [("n_prompt", .int(p)), ("pp_tokens_per_s", .double(pp.mean)), ("pp_sd", .double(pp.sd))]
            }
            if n > 0 {
                fields += [("n_gen", .int(n)), ("tg_tokens_per_s", .double(tg.mean)), ("tg_sd", .double(tg.sd))]
            }
            print(JSON.object(fields).serialized)
        } else {
            print("model: \(model)  threads: \(threads)  repetitions: \(r)  kernels: \(InstructionSet.best)"
                  + (batch > 0 ? "  batch: \(batch)" : ""))
            if p > 0 { print(String(format: "pp%-5d %10.2f ± %.2f tokens/s", p, pp.mean, pp.sd)) }
            if n > 0 { print(String(format: "tg%-5d %10.2f ± %.2f tokens/s", n, tg.mean, tg.sd)) }
        }
    }

    /// `--batch`: per repetition, B prompts prefilled in one pass (pp), then n passes of B tokens (tg);
    /// the first repetition is the warm-up.
    func runBatched(_ lm: TransformerModel, randomTokens: (Int) -> [Int]) throws(TransformerError)
        -> (pp: [Double], tg: [Double])
    {
        var sequences = [lm]
        for _ in 1..<batch { sequences.append(try lm.fork()) }
        let prompts = sequences.map { _ in randomTokens(p) }
        let generated = sequences.map { _ in randomTokens(n) }
        var step = SequenceBatch()
        var logits: [Float] = []
        var ppRates: [Double] = [], tgRates: [Double] = []
        for rep in 0...r {
            for s in sequences { s.reset() }
            if p > 0 {
                step.removeAll()
                for (s, prompt) in zip(sequences, prompts) { step.append(s, tokens: prompt) }
                let start = DispatchTime.now().uptimeNanoseconds
                try lm.forward(step, logits: &logits)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                if rep > 0 { ppRates.append(Double(batch * p) / seconds) }
            }
            if n > 0 {
                let start = DispatchTime.now().uptimeNanoseconds
                for i in 0..<n {
                    step.removeAll()
                    for (s, tokens) in zip(sequences, generated) { step.append(s, tokens: CollectionOfOne(tokens[i])) }
                    try lm.forward(step, logits: &logits)
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                if rep > 0 { tgRates.append(Double(batch * n) / seconds) }
            }
        }
        return (ppRates, tgRates)
    }

    /// Mean and sample standard deviation (0 for fewer than two values).
    static func meanSD(_ values: [Double]) -> (mean: Double, sd: Double) {
        guard !values.isEmpty else { return (0, 0) }
        let mean = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { return (mean, 0) }
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        return (mean, variance.squareRoot())
    }
}

/// A small seeded generator (SplitMix64), so every run benchmarks the same token ids.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
