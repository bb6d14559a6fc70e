import Foundation
import Transformer

/// How much one model's scheduler runs at once (see ``Engine/Configuration/batching``).
public struct BatchingLimits: Sendable, Equatable {
    /// The most sequences running at once, over all requests (a request with best_of k, or a beam
    /// width k, counts k).
    public var maxBatchSequences: Int
    /// The most tokens in one forward pass. Prompts are prefilled in chunks of what the running
    /// sequences' next tokens leave of it, so a long prompt holds the others up for one chunk at
    /// a time.
    public var maxBatchTokens: Int
    /// The most requests waiting for room (sequences or KV memory); one more is refused with
    /// ``GenerateError/queueFull(waiting:)``.
    public var maxQueue: Int

    /// 16 sequences, 128 tokens per pass, 64 waiting requests.
    public init(maxBatchSequences: Int = 16, maxBatchTokens: Int = 128, maxQueue: Int = 64) {
        self.maxBatchSequences = maxBatchSequences
        self.maxBatchTokens = maxBatchTokens
        self.maxQueue = maxQueue
    }

    func validate() throws(GenerateError) {
        guard maxBatchSequences >= 1 else {
            throw .invalidField(field: "maxBatchSequences", reason: "must be at least 1, not \(maxBatchSequences)")
        }
        guard maxBatchTokens > maxBatchSequences else {
            throw .invalidField(field: "maxBatchTokens",
                                reason: "must exceed maxBatchSequences (\(maxBatchSequences)) so prompts always get a chunk, not \(maxBatchTokens)")
        }
        guard maxQueue >= 0 else { throw .invalidField(field: "maxQueue", reason: "must not be negative, not \(maxQueue)") }
    }
}

/// Runs the sequences of every request for one model in shared forward passes (continuous
/// batching).
///
/// Request threads hand it work and block until it is done: a prompt to prefill, or one next token
/// for each of a request's running sequences. A step is one ``TransformerModel/forward(_:logits:)``
/// over:
/// 1. every waiting decode, in arrival order;
/// 2. then the waiting prompts, in arrival order, each a chunk of what is left of
///    ``BatchingLimits/maxBatchTokens``.
///
/// A step starts once every request inside generation has handed over its work, or 2 ms after
/// the last hand-over (a request still sampling then joins the next step). Cancelled work is
/// dropped when the next step is composed, so a prompt stops at a chunk boundary.
///
/// The kernels are batch-invariant, so what a sequence gets does not depend on which others share
/// its steps: a seeded request gives the same tokens alone or under load.
///
/// The step thread stops after a second without work (and starts again with the next), so an idle
/// scheduler holds no thread.
final class BatchScheduler: @unchecked Sendable {
    /// Runs every step (its activations are the only ones in use); never a sequence itself.
    private let lead: TransformerModel
    private let limits: BatchingLimits
    private let condition = NSCondition()

    // Guarded by `condition`:
    private var pending: [Job] = []
    /// Requests between ``begin()`` and ``end()``.
    private var active = 0
    private var lastArrival = DispatchTime.now()
    /// Requests the last steps answered that have neither handed over new work nor left
    /// generation: they are sampling their next tokens, and the next step waits for them (up to
    /// 50 ms after the step), so a decoding stream is in every step, chunk steps included.
    private var awaited = Set<ObjectIdentifier>()
    /// How long after a step the next one waits for ``awaited`` requests (tests lengthen it with
    /// ``waitForSampling(upTo:)``).
    private var awaitWindow: DispatchTimeInterval = .milliseconds(50)
    private var lastStepEnd = DispatchTime.now()
    private var threadRunning = false
    /// Steps run.
    private var steps = 0
    /// Requests in generation, and steps run so far.
    var counts: (active: Int, steps: Int) { condition.withLock { (active, steps) } }
    /// What each step ran, while tests record it (``recordSteps()``); `nil` otherwise.
    private var stepLog: [StepRecord]?
    /// Steps the thread may still run while a test holds it (``holdSteps(after:)``); `nil`
    /// otherwise.
    private var stepAllowance: Int?

    /// One request's hand-over: a prompt for one sequence, or one token for each of several.
    private final class Job {
        let sequences: [TransformerModel]
        let tokens: [Int]
        let isPrefill: Bool
        let flag: CancellationFlag
        /// Prompt tokens already run.
        var done = 0
        var logits: [[Float]] = []
        var result: Result<Void, any Error>?

        init(sequences: [TransformerModel], tokens: [Int], isPrefill: Bool, flag: CancellationFlag) {
            self.sequences = sequences
            self.tokens = tokens
            self.isPrefill = isPrefill
            self.flag = flag
        }
    }

    init(lead: TransformerModel, limits: BatchingLimits) {
        self.lead = lead
        self.limits = limits
    }

    /// A request enters generation: steps wait for its work (at most 2 ms).
    func begin() {
        condition.withLock { active += 1 }
    }

    /// A request leaves generation.
    func end(_ flag: CancellationFlag? = nil) {
        condition.withLock {
            if let flag { awaited.remove(ObjectIdentifier(flag)) }
            active -= 1
            condition.broadcast()
        }
    }

    /// Runs `tokens` through `sequence`, in chunks across steps, and returns the logits after the
    /// last one. Throws `CancellationError` at the next chunk boundary once `flag` is set.
    func prefill(_ sequence: TransformerModel, tokens: [Int], flag: CancellationFlag) throws -> [Float] {
        var logits = try submit(Job(sequences: [sequence], tokens: tokens, isPrefill: true, flag: flag))
        return logits.popLast() ?? []
    }

    /// Appends `tokens[i]` to `sequences[i]` for every i in one step, writing each one's next-token
    /// logits into `logits[i]`.
    func decode(_ sequences: [TransformerModel], tokens: [Int], flag: CancellationFlag, into logits: inout [[Float]]) throws {
        let job = Job(sequences: sequences, tokens: tokens, isPrefill: false, flag: flag)
        // The caller's rows move into the job and back, so each step overwrites them in place
        // instead of allocating a vocabulary-sized row per sequence.
        job.logits = logits
        logits = []
        logits = try submit(job)
    }

    private func submit(_ job: Job) throws -> [[Float]] {
        if job.flag.isCancelled { throw CancellationError() }
        guard !job.sequences.isEmpty, !job.tokens.isEmpty else { return [] }
        condition.lock()
        pending.append(job)
        awaited.remove(ObjectIdentifier(job.flag))
        lastArrival = .now()
        if !threadRunning {
            threadRunning = true
            let thread = Thread { [self] in runSteps() }
            thread.stackSize = 4 << 20
            thread.start()
        }
        condition.broadcast()
        while job.result == nil { condition.wait() }
        condition.unlock()
        try job.result?.get()
        return job.logits
    }

    // MARK: The step thread

    private func runSteps() {
        var batch = SequenceBatch()
        var flat: [Float] = []
        condition.lock()
        while true {
            // Sleep until there is work; stop after a second without any.
            while pending.isEmpty {
                if !condition.wait(until: Date(timeIntervalSinceNow: 1)), pending.isEmpty {
                    threadRunning = false
                    condition.unlock()
                    return
                }
            }
            // Let the other requests inside generation hand over their work too.
            while pending.count < active {
                var deadline = lastArrival + .milliseconds(2)
                if !awaited.isEmpty { deadline = max(deadline, lastStepEnd + awaitWindow) }
                if DispatchTime.now() >= deadline { break }
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(deadline.uptimeNanoseconds - DispatchTime.now().uptimeNanoseconds) / 1e9))
            }
            // A test that holds the steps decides how many run.
            while let allowance = stepAllowance, allowance <= 0 { condition.wait() }
            stepAllowance = stepAllowance.map { $0 - 1 }
            let step = compose(into: &batch)
            if stepLog != nil { record(step) }
            condition.unlock()
            let failures = run(step, batch: batch, flat: &flat)
            // The batch keeps its storage but lets go of the sequences, so that a finished or
            // cancelled one frees its blocks now, not at the next step.
            batch.removeAll()
            condition.lock()
            finish(step, failures: failures)
            steps += 1
            lastStepEnd = .now()
            condition.broadcast()
        }
    }

    /// One job's part of a step: its sequences' rows, or a chunk of its prompt.
    private struct Part {
        let job: Job
        let tokens: Int
        let returnsLogits: Bool
    }

    /// Chooses the step's work (under the lock): cancelled jobs fail, every decode goes in, then
    /// prompt chunks fill what is left of the token budget.
    private func compose(into batch: inout SequenceBatch) -> [Part] {
        batch.removeAll()
        var parts: [Part] = []
        var budget = limits.maxBatchTokens
        for job in pending where job.flag.isCancelled { job.result = .failure(CancellationError()) }
        pending.removeAll { $0.result != nil }
        for job in pending where !job.isPrefill && (job.tokens.count <= budget || parts.isEmpty) {
            for (sequence, token) in zip(job.sequences, job.tokens) {
                batch.append(sequence, tokens: CollectionOfOne(token), logits: .last)
            }
            budget -= job.tokens.count
            parts.append(Part(job: job, tokens: job.tokens.count, returnsLogits: true))
        }
        for job in pending where job.isPrefill && budget > 0 {
            let count = min(budget, job.tokens.count - job.done)
            let last = job.done + count == job.tokens.count
            batch.append(job.sequences[0], tokens: job.tokens[job.done ..< job.done + count], logits: last ? .last : .none)
            budget -= count
            parts.append(Part(job: job, tokens: count, returnsLogits: last))
        }
        return parts
    }

    /// Runs the step (outside the lock) and hands each part its logits; if the pass fails, each
    /// part runs alone, so that only the parts that fail by themselves fail.
    private func run(_ parts: [Part], batch: SequenceBatch, flat: inout [Float]) -> [ObjectIdentifier: any Error] {
        guard !parts.isEmpty else { return [:] }
        do {
            try lead.forward(batch, logits: &flat)
            distribute(parts, flat)
            return [:]
        } catch {
            guard parts.count > 1 else { return [ObjectIdentifier(parts[0].job): error] }
        }
        var failures: [ObjectIdentifier: any Error] = [:]
        var alone = SequenceBatch()
        for part in parts {
            alone.removeAll()
            append(part, to: &alone)
            do {
                try lead.forward(alone, logits: &flat)
                distribute([part], flat)
            } catch {
                failures[ObjectIdentifier(part.job)] = error
            }
        }
        return failures
    }

    private func append(_ part: Part, to batch: inout SequenceBatch) {
        let job = part.job
        if job.isPrefill {
            batch.append(job.sequences[0], tokens: job.tokens[job.done ..< job.done + part.tokens],
                         logits: part.returnsLogits ? .last : .none)
        } else {
            for (sequence, token) in zip(job.sequences, job.tokens) {
                batch.append(sequence, tokens: CollectionOfOne(token), logits: .last)
            }
        }
    }

    /// Copies each part's rows of `flat` (the pass's logits, in batch order) into its job's rows,
    /// reusing them when they already have the vocabulary's size.
    private func distribute(_ parts: [Part], _ flat: [Float]) {
        let vocab = lead.vocabularySize
        var row = 0
        for part in parts where part.returnsLogits {
            let job = part.job
            let rows = job.isPrefill ? 1 : job.sequences.count
            if job.logits.count > rows { job.logits.removeLast(job.logits.count - rows) }
            while job.logits.count < rows { job.logits.append([]) }
            for r in 0 ..< rows {
                let source = flat[(row + r) * vocab ..< (row + r + 1) * vocab]
                if job.logits[r].count == vocab {
                    job.logits[r].withUnsafeMutableBufferPointer { target in
                        _ = target.update(fromContentsOf: source)
                    }
                } else {
                    job.logits[r] = Array(source)
                }
            }
            row += rows
        }
    }

    /// Records the step's outcome (under the lock): failed jobs fail, decodes and finished prompts
    /// complete, unfinished prompts wait for the next step.
    private func finish(_ parts: [Part], failures: [ObjectIdentifier: any Error]) {
        for part in parts {
            let job = part.job
            if let error = failures[ObjectIdentifier(job)] {
                job.result = .failure(error)
                continue
            }
            if job.isPrefill {
                job.done += part.tokens
                if job.done == job.tokens.count {
                    job.result = .success(())
                    awaited.insert(ObjectIdentifier(job.flag))
                }
            } else {
                job.result = .success(())
                awaited.insert(ObjectIdentifier(job.flag))
            }
        }
        pending.removeAll { $0.result != nil }
    }
}

// MARK: Step log (a test hook)

extension BatchScheduler {
    /// What one step ran, part by part in batch order (decodes first, then prompt chunks). Tests
    /// read it to check the composition of steps deterministically, without timing: see
    /// ``BatchScheduler/recordSteps()``. A step whose work was all cancelled has no parts.
    struct StepRecord: Sendable, Equatable {
        struct Part: Sendable, Equatable {
            /// The request's ``CancellationFlag``, shared by all of its jobs; the log holds it, so
            /// no later request's flag can take its address while the log lives.
            let flag: CancellationFlag
            /// The request the part belongs to (its flag's identity).
            var request: ObjectIdentifier { ObjectIdentifier(flag) }
            let isPrefill: Bool
            /// Rows in this step: the chunk's tokens, or one per decoding sequence.
            let rows: Int
            /// The whole job: the prompt's tokens for a prefill (every chunk of one prompt has the
            /// same), the sequences for a decode.
            let jobTokens: Int

            static func == (a: Part, b: Part) -> Bool {
                a.flag === b.flag && a.isPrefill == b.isPrefill && a.rows == b.rows && a.jobTokens == b.jobTokens
            }
        }
        let parts: [Part]

        /// Rows of decoding sequences and of prompt chunks.
        var decodeRows: Int { parts.filter { !$0.isPrefill }.reduce(0) { $0 + $1.rows } }
        var prefillRows: Int { parts.filter(\.isPrefill).reduce(0) { $0 + $1.rows } }
    }

    /// Starts recording every step (dropping what was recorded before). Only tests call it; without
    /// it the scheduler records nothing.
    func recordSteps() {
        condition.withLock { stepLog = [] }
    }

    /// Lets the step thread run `steps` more steps, then wait until ``allowSteps(_:)`` or
    /// ``releaseSteps()``. Tests hold the steps so that what they check while a request runs does
    /// not race the request to its end on a busy machine. Only tests call it.
    func holdSteps(after steps: Int) {
        condition.withLock {
            stepAllowance = steps
            condition.broadcast()
        }
    }

    /// Makes each step wait up to `window` (instead of 50 ms) for requests that are sampling their
    /// next tokens. Tests that check which requests share steps set it, so that a busy machine
    /// slowing a request's sampling does not split the steps they check. Only tests call it.
    func waitForSampling(upTo window: DispatchTimeInterval) {
        condition.withLock { awaitWindow = window }
    }

    /// Lets a held step thread run `steps` more steps.
    func allowSteps(_ steps: Int) {
        condition.withLock {
            stepAllowance = (stepAllowance ?? 0) + steps
            condition.broadcast()
        }
    }

    /// Lets the step thread run freely again.
    func releaseSteps() {
        condition.withLock {
            stepAllowance = nil
            condition.broadcast()
        }
    }

    /// The steps recorded since ``recordSteps()``, in order; recording stops.
    func takeStepLog() -> [StepRecord] {
        condition.withLock {
            defer { stepLog = nil }
            return stepLog ?? []
        }
    }

    /// Appends the step about to run (under the lock).
    private func record(_ step: [Part]) {
        stepLog?.append(StepRecord(parts: step.map {
            StepRecord.Part(flag: $0.job.flag, isPrefill: $0.job.isPrefill, rows: $0.tokens,
                            jobTokens: $0.job.tokens.count)
        }))
    }
}
