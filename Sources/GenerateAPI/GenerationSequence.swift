import Foundation
import Sampling
import Tokenizer
import Transformer

/// A flag set once, from any thread, to stop a generation running on another.
final class CancellationFlag: @unchecked Sendable {
    // A lock rather than an atomic: `Synchronization.Atomic` needs macOS 15, the package supports 14.
    private let lock = NSLock()
    private var cancelled = false

    func cancel() { lock.withLock { cancelled = true } }
    var isCancelled: Bool { lock.withLock { cancelled } }
}

/// One sequence of a request: a transformer sequence whose tokens run in its model's scheduler
/// (batched with every other request's), and that stops at the next step once its request is
/// cancelled.
///
/// Generation runs on a worker thread, outside Swift's task tree, so `Task.isCancelled` cannot
/// reach it; the engine sets ``CancellationFlag`` from the task's cancellation handler instead, and
/// every sequence forked from this one shares the flag.
final class GenerationSequence: SequenceModel {
    let model: TransformerModel
    let scheduler: BatchScheduler
    let flag: CancellationFlag

    init(model: TransformerModel, scheduler: BatchScheduler, flag: CancellationFlag) {
        self.model = model
        self.scheduler = scheduler
        self.flag = flag
    }

    var vocabularySize: Int { model.vocabularySize }
    var contextLength: Int { model.contextLength }
    var position: Int { model.position }

    /// Takes what the prefix cache holds of the prompt, runs the rest in the scheduler (in chunks,
    /// beside other requests' tokens), and returns the logits after the prompt and the number of
    /// prompt tokens that came from the cache.
    func prefill(_ tokens: [Int]) throws -> (logits: [Float], cachedTokens: Int) {
        let cached = model.reuseCachedPrefix(of: tokens)
        let logits = try scheduler.prefill(model, tokens: Array(tokens[cached...]), flag: flag)
        return (logits, cached)
    }

    func decode(token: Int, into logits: inout [Float]) throws {
        var rows = [logits]
        try scheduler.decode([model], tokens: [token], flag: flag, into: &rows)
        logits = rows.first ?? []
    }

    /// One step of the scheduler for all of `sequences` (a request's candidates or beams).
    static func decode(_ sequences: [GenerationSequence], tokens: [Int], into logits: inout [[Float]]) throws {
        guard let first = sequences.first else {
            logits = []
            return
        }
        try first.scheduler.decode(sequences.map(\.model), tokens: tokens, flag: first.flag, into: &logits)
    }

    func fork() throws -> GenerationSequence {
        GenerationSequence(model: try model.fork(), scheduler: scheduler, flag: flag)
    }
}

/// The tokenizer's streaming decoder is the detokenizer the sampling loops match stop strings on.
extension StreamingDecoder: TextDetokenizer {}
