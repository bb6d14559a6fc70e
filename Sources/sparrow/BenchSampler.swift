import ArgumentParser
import Foundation
import GenerateAPI
import Sampling

/// `sparrow bench-sampler`: the cost of one sampling step over a vocabulary-sized logit vector.
/// A benchmark, not a test: it prints microseconds per step and the target (well under 1 ms).
///
/// Each step restores the same random logits (a copy into a buffer the sampler then rewrites in
/// place, as a model's decode would) and samples with a fixed history, so the numbers include
/// every pass a generation step makes after the model: penalties, temperature, filters, draw.
struct BenchSampler: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-sampler",
        abstract: "Time one sampling step (penalties, temperature, top-k/top-p/min-p, draw) over random logits.",
        discussion: """
            Logits are Gaussian with standard deviation --spread (seeded), over a vocabulary of \
            --vocabulary tokens; the history has 256 prompt and 64 generated ids. Build with \
            `-c release -Xswiftc -target-cpu -Xswiftc native` for meaningful numbers.
            """
    )

    @Option(help: "Vocabulary size.")
    var vocabulary: Int = 128_256

    @Option(help: "Steps timed per setting (the median of 5 runs of this many is reported).")
    var steps: Int = 2000

    @Option(help: "Standard deviation of the random logits.")
    var spread: Double = 3

    func validate() throws {
        guard vocabulary >= 16, vocabulary <= 1 << 22 else { throw ValidationError("--vocabulary must be in [16, 4194304]") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        guard spread > 0, spread.isFinite else { throw ValidationError("--spread must be positive") }
    }

    func run() throws {
        var noise = Xoshiro256StarStar(seed: 42)
        var logits = [Float](repeating: 0, count: vocabulary)
        for i in 0 ..< vocabulary {
            // Box-Muller from the top bits: deterministic logits for comparable runs.
            let u1 = max(noise.nextUnitInterval(), 1e-300), u2 = noise.nextUnitInterval()
            logits[i] = Float(spread * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
        }
        let history = TokenHistory(prompt: (0 ..< 256).map { ($0 * 7919) % vocabulary },
                                   output: (0 ..< 64).map { ($0 * 104_729) % vocabulary })
        let settings: [(String, SamplingParameters)] = [
            ("greedy (temperature 0)", SamplingParameters(temperature: 0)),
            ("temperature 0.8", SamplingParameters(temperature: 0.8)),
            ("penalties + temperature 0.8", SamplingParameters(presencePenalty: 0.5, frequencyPenalty: 0.5, repetitionPenalty: 1.1, temperature: 0.8)),
            ("top_k 40", SamplingParameters(temperature: 0.8, topK: 40)),
            ("top_k 40 + top_p 0.9", SamplingParameters(temperature: 0.8, topP: 0.9, topK: 40)),
            ("top_p 0.9 (no top_k)", SamplingParameters(temperature: 0.8, topP: 0.9)),
            ("top_p 0.95 + min_p 0.05", SamplingParameters(temperature: 0.8, topP: 0.95, minP: 0.05)),
            ("min_p 0.1", SamplingParameters(temperature: 0.8, minP: 0.1)),
            ("top_k 2000 + top_p 0.9", SamplingParameters(temperature: 0.8, topP: 0.9, topK: 2000)),
            ("penalties + top_k 50 + top_p 0.95 + logprobs 5",
             SamplingParameters(presencePenalty: 0.3, frequencyPenalty: 0.3, repetitionPenalty: 1.2, temperature: 0.7,
                                topP: 0.95, topK: 50, logprobs: 5)),
        ]
        print("vocabulary: \(vocabulary), logits ~ N(0, \(spread)²), \(steps) steps per run, median of 5 runs")
        var worst = 0.0
        for (name, parameters) in settings {
            var sampler = TokenSampler(parameters: parameters)
            var generator = Xoshiro256StarStar(seed: 7)
            var buffer = logits
            var checksum = 0
            let alternatives = parameters.logprobs ?? 0
            var runs: [Double] = []
            for _ in 0 ..< 5 {
                var watch = Stopwatch()
                for _ in 0 ..< steps {
                    buffer.withUnsafeMutableBufferPointer { b in
                        logits.withUnsafeBufferPointer { b.baseAddress!.update(from: $0.baseAddress!, count: $0.count) }
                    }
                    checksum &+= sampler.sample(&buffer, history: history, using: &generator,
                                                alternativeCount: alternatives).token
                }
                runs.append(watch.lap().cpu / Double(steps) * 1e6)
            }
            runs.sort()
            worst = max(worst, runs[2])
            let label = name.padding(toLength: 48, withPad: " ", startingAt: 0)
            print(label + String(format: " %8.1f µs/step CPU (best %.1f)  [checksum %d]", runs[2], runs[0], checksum))
        }
        print(String(format: "bar: every setting under 1000 µs: %@ (slowest %.1f µs)", worst < 1000 ? "yes" : "no", worst))
    }
}
