import Foundation
import Testing
import Transformer
@testable import GenerateAPI
import SparrowTestSupport

/// Engines, prompts and waits shared by the continuous-batching tests.
///
/// They run on the tiny random Llama of `Fixtures/transformer/llama-q8_0.gguf` (2 layers, 4 heads,
/// 2 KV heads of 16, every matrix Q8_0: one KV block of 16 positions is 2 × 2 × 16 × 32 × 4 =
/// 8 KiB in Float32) with its context raised from 128 to 2,048 positions, so that a prompt can be
/// long enough to need hundreds of chunks. Rotary positions have no trained limit, so the raised
/// copy is as good a model as the original for these tests. Q8_0: a GGUF of the kind users serve,
/// whose products run through the integer kernels (the Float32 checkpoints' Float kernel is
/// batch-invariant too; see the README's "Batch invariance").
enum Batching {
    /// The model name the engines below resolve to the long-context copy.
    static let model = "long"
    /// Bytes of one KV block of the tiny Llama (Float32 cache).
    static let blockBytes = 8 * 1024
    static let contextLength = 2048

    /// A copy of the Q8_0 tiny Llama with `llama.context_length` = ``contextLength`` (the u32 is
    /// rewritten in place). Made once per test process.
    static let longLlamaPath: String = {
        var bytes = [UInt8](try! Data(contentsOf: FixturePaths.url("transformer/llama-q8_0.gguf")))
        let key = Array("llama.context_length".utf8)
        // The key (after its u64 length), then the value type (4: u32), then the value.
        let at = (0 ... bytes.count - key.count).first { bytes[$0 ..< $0 + key.count].elementsEqual(key) }!
        let type = at + key.count, value = type + 4
        precondition(bytes[type ..< type + 4].elementsEqual([4, 0, 0, 0]), "llama.context_length is not a u32")
        precondition(bytes[value ..< value + 4].elementsEqual([128, 0, 0, 0]), "the fixture's context is not 128")
        withUnsafeBytes(of: UInt32(contextLength).littleEndian) { bytes.replaceSubrange(value ..< value + 4, with: $0) }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("sparrow-batching-llama-\(ProcessInfo.processInfo.processIdentifier).gguf")
        try! Data(bytes).write(to: url)
        return url.path
    }()

    /// A fresh engine (its own scheduler, KV pool and prefix cache) whose default model is the
    /// long-context tiny Llama; `kvBlocks` sizes its KV memory (`nil`: the default).
    static func engine(_ batching: BatchingLimits = .init(), kvBlocks: Int? = nil) -> Engine {
        var options = ModelOptions()
        options.kvCacheBytes = kvBlocks.map { $0 * blockBytes }
        return Engine(configuration: .init(
            registry: ModelRegistry(roots: [FixturePaths.url("transformer").path], aliases: [model: longLlamaPath]),
            defaultModel: model, modelOptions: options, batching: batching))
    }

    /// A prompt of `words` pseudo-random words. Prompts with different `salt`s differ from their
    /// first word, so one request never finds another's blocks in the prefix cache.
    static func prompt(words: Int, salt: UInt64) -> String {
        let vocabulary = ["river", "stone", "light", "paper", "cloud", "seven", "green", "quiet", "north", "glass",
                          "music", "tiger", "bread", "metal", "ocean", "dream", "field", "house", "winter", "apple"]
        var state = salt &* 6364136223846793005 &+ 1442695040888963407
        var out: [String] = ["\(salt)."]
        for _ in 0 ..< words {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            out.append(vocabulary[Int((state >> 33) % UInt64(vocabulary.count))])
        }
        return out.joined(separator: " ")
    }

    /// A request that, on the tiny Llama, generates `maxTokens` tokens without ever ending by
    /// itself (its greedy continuation falls into a loop without the end token); checked by
    /// ``BatchingAdmissionTests`` ("the long runner ends only at max_tokens").
    static func longRunner(maxTokens: Int, salt: UInt64 = 2) -> GenerateRequest {
        GenerateRequest(model: model, prompt: prompt(words: 6, salt: 1000 + salt), maxTokens: maxTokens, temperature: 0)
    }

    /// Starts `request` as a stream (see ``BatchingCancellationTests/startStream(_:_:deltas:)``)
    /// on an engine whose steps are held after `steps` (``BatchScheduler/holdSteps(after:)``):
    /// enough for the prompt and the first tokens, far too few to end a long runner. What a test
    /// checks while the runner runs then cannot race it to its end on a busy machine. Call
    /// ``BatchScheduler/releaseSteps()`` before cancelling the runner.
    static func startHeldRunner(_ engine: Engine, _ request: GenerateRequest, steps: Int = 16) async throws
        -> (runner: Task<Streamed, any Error>, scheduler: BatchScheduler) {
        try await engine.preload()
        let scheduler = try await self.scheduler(engine)
        scheduler.holdSteps(after: steps)
        return (await BatchingCancellationTests.startStream(engine, request), scheduler)
    }

    static func status(_ engine: Engine) async throws -> BatchingStatus {
        try #require(try await engine.batchingStatus())
    }

    static func scheduler(_ engine: Engine) async throws -> BatchScheduler {
        try #require(try await engine.scheduler())
    }

    /// Polls the engine's status every 2 ms until `condition` holds, and returns that status;
    /// after `seconds` (scaled, see ``TimeScale``) records an issue naming `what` and returns the
    /// last status.
    @discardableResult
    static func waitFor(_ engine: Engine, _ what: String, seconds: Double = 20,
                        sourceLocation: SourceLocation = #_sourceLocation,
                        until condition: (BatchingStatus) -> Bool) async throws -> BatchingStatus {
        let clock = ContinuousClock()
        let deadline = clock.now + TimeScale.seconds(seconds)
        while true {
            let status = try await self.status(engine)
            if condition(status) { return status }
            if clock.now >= deadline {
                Issue.record("timed out waiting for \(what): \(status)", sourceLocation: sourceLocation)
                return status
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Waits (briefly) until the engine holds nothing: no request generating or waiting, no
    /// sequence admitted, no block reserved, every KV block back in the free list; then checks
    /// each of these.
    static func expectIdle(_ engine: Engine, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let comment = Comment(rawValue: label)
        let s = try await waitFor(engine, "everything freed (\(label))", sourceLocation: sourceLocation) {
            $0.freeBlocks == $0.totalBlocks && $0.sequences == 0 && $0.reservedBlocks == 0 && $0.waiting == 0
                && $0.generating == 0
        }
        #expect(s.freeBlocks == s.totalBlocks, comment, sourceLocation: sourceLocation)
        #expect(s.sequences == 0, comment, sourceLocation: sourceLocation)
        #expect(s.reservedBlocks == 0, comment, sourceLocation: sourceLocation)
        #expect(s.waiting == 0, comment, sourceLocation: sourceLocation)
        #expect(s.generating == 0, comment, sourceLocation: sourceLocation)
    }

    /// A stream's deltas (concatenated per choice index) and its final response.
    struct Streamed: Sendable {
        var texts: [Int: String] = [:]
        var deltas = 0
        var response: GenerateResponse?
    }

    /// Iterates `engine.stream(request:)` to its end. `onDelta` runs after each delta, with the
    /// number of deltas so far.
    static func stream(_ engine: Engine, _ request: GenerateRequest,
                       onDelta: @Sendable (Int) async -> Void = { _ in }) async throws -> Streamed {
        var out = Streamed()
        for try await event in engine.stream(request: request) {
            switch event {
            case let .delta(index, text):
                out.texts[index, default: ""] += text
                out.deltas += 1
                await onDelta(out.deltas)
            case .logprobs:
                break
            case let .finished(response):
                out.response = response
            }
        }
        return out
    }

    /// The request each step log part belongs to, found by the length of the request's prompt
    /// job (so prompts in one test must have distinct token counts, and must not hit the prefix
    /// cache): `nil` if no prefill of that length is in the log.
    static func request(withPromptTokens count: Int, in log: [BatchScheduler.StepRecord]) -> ObjectIdentifier? {
        for step in log {
            if let part = step.parts.first(where: { $0.isPrefill && $0.jobTokens == count }) { return part.request }
        }
        return nil
    }
}

/// A one-shot signal from one task to another.
actor Signal {
    private var fired = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func fire() {
        guard !fired else { return }
        fired = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }

    func wait() async {
        if fired { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}
