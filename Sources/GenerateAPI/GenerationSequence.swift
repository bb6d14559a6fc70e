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

/// One sequence of a request: a transformer fork that stops at the next token once its request
/// is cancelled.
///
/// Generation runs on a worker thread, outside Swift's task tree, so `Task.isCancelled` cannot
/// reach it; the engine sets ``CancellationFlag`` from the task's cancellation handler instead, and
/// every sequence forked from this one shares the flag.
final class GenerationSequence: SequenceModel {
    let model: TransformerModel
    let flag: CancellationFlag

    init(model: TransformerModel, flag: CancellationFlag) {
        self.model = model
        self.flag = flag
    }

    var vocabularySize: Int { model.vocabularySize }
    var contextLength: Int { model.contextLength }
    var position: Int { model.position }

    func decode(token: Int, into logits: inout [Float]) throws {
        if flag.isCancelled { throw CancellationError() }
        try model.decode(token: token, into: &logits)
    }

    func fork() throws -> GenerationSequence {
        GenerationSequence(model: try model.fork(), flag: flag)
    }
}

/// The tokenizer's streaming decoder is the detokenizer the sampling loops match stop strings on.
extension StreamingDecoder: TextDetokenizer {}
