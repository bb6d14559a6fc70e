/// Random and greedy decoding of `best_of` candidates, of which the `n` most likely are returned.
///
/// Every candidate but the first runs on a fork of the model taken before any token, so all share
/// the prompt's cache. Candidates advance together, one token each per round: the round samples
/// and reports the running candidates in index order, then decodes every one still running in one
/// ``SequenceModel/decode(_:tokens:into:)`` call, so a batching model steps them in one forward
/// pass. Candidate i draws from its own stream (the request's generator jumped i times, see
/// ``Xoshiro256StarStar/stream(_:)``), so its tokens depend only on the seed and i — not on
/// how many candidates run, when the others finish, or whether anyone listens to the events.
struct SampledGeneration<Model: SequenceModel, Detokenizer: TextDetokenizer> {
    let setup: GenerationSetup
    let parameters: SamplingParameters
    let rules: StopRules

    init(setup: GenerationSetup) {
        self.setup = setup
        parameters = setup.parameters.effective
        rules = StopRules(setup: setup)
    }

    func run(
        model: Model, promptLogits: [Float], detokenizer: Detokenizer,
        onEvent: (GenerationEvent) throws -> Void
    ) throws -> [SequenceOutput] {
        let count = parameters.effectiveBestOf
        // With best_of == n every candidate is returned under its own index, so its text can be
        // reported as it arrives; otherwise only the end can tell which candidates are returned.
        let streams = count == parameters.n
        var models: [Model?] = [model]
        for _ in 1 ..< max(1, count) { models.append(try model.fork()) }
        var logits = [[Float]](repeating: promptLogits, count: count)
        var progress = [SequenceProgress<Detokenizer>](
            repeating: SequenceProgress(detokenizer: detokenizer, rules: rules), count: count)
        var root = parameters.seed.map { Xoshiro256StarStar(seed: $0) } ?? Xoshiro256StarStar()
        var generators: [Xoshiro256StarStar] = []
        for _ in 0 ..< count {
            generators.append(root)
            root.jump()
        }
        var sampler = TokenSampler(parameters: parameters)
        let alternativeCount = parameters.logprobs ?? 0
        // One recognizer for the request; each candidate keeps its own state in it.
        let guide = try setup.constraint.map { try OutputGuide($0, endTokenIDs: setup.endTokenIDs, ignoresEOS: parameters.ignoreEOS) }
        var guideStates = [GrammarState](repeating: guide?.initial ?? .dead, count: count)

        // The round's decode: the candidates still running, their models, sampled ids and logit
        // buffers. The buffers are swapped into the batch and back rather than copied.
        var batchCandidates: [Int] = []
        var batchModels: [Model] = []
        var batchTokens: [Int] = []
        var batchLogits: [[Float]] = []

        var running = count
        while running > 0 {
            for i in 0 ..< count where !progress[i].isFinished {
                if Task.isCancelled { throw CancellationError() }
                guard let sequenceModel = models[i] else { continue }
                if let guide, try !guide.mask(&logits[i], state: guideStates[i]) {
                    // Nothing may follow: the output ends here.
                    progress[i].finishConstrained(rules)
                    if streams { try onEvent(.delta(index: i, text: progress[i].takeFinalText(rules), tokenIDs: [], logprobs: [])) }
                    models[i] = nil
                    logits[i] = []
                    running -= 1
                    continue
                }
                let choice = sampler.sample(
                    &logits[i], history: TokenHistory(prompt: setup.promptTokens, output: progress[i].tokens),
                    using: &generators[i], alternativeCount: alternativeCount)
                try progress[i].accept(
                    choice.token, logprob: choice.logprob,
                    alternatives: alternativeCount > 0 ? sampler.alternatives : [], rules: rules,
                    atContextLimit: sequenceModel.position >= sequenceModel.contextLength)
                if let guide, !progress[i].isFinished {
                    guideStates[i] = guide.advance(guideStates[i], token: choice.token)
                    if guide.isComplete(guideStates[i]) { progress[i].finishConstrained(rules) }
                }
                if streams {
                    let text = progress[i].takeFinalText(rules)
                    try onEvent(.delta(index: i, text: text, tokenIDs: [choice.token],
                                       logprobs: progress[i].logprobs?.last.map { [$0] } ?? []))
                }
                if progress[i].isFinished {
                    // Release the candidate's cache and logits as soon as it is done.
                    models[i] = nil
                    logits[i] = []
                    running -= 1
                } else {
                    batchCandidates.append(i)
                    batchModels.append(sequenceModel)
                    batchTokens.append(choice.token)
                }
            }
            guard !batchCandidates.isEmpty else { break }
            for i in batchCandidates {
                batchLogits.append([])
                swap(&batchLogits[batchLogits.count - 1], &logits[i])
            }
            try decodeChecked(batchModels, tokens: batchTokens, into: &batchLogits)
            for (slot, i) in batchCandidates.enumerated() {
                swap(&logits[i], &batchLogits[slot])
            }
            // Cleared now, so a candidate that finishes next round releases its model at once.
            batchCandidates.removeAll(keepingCapacity: true)
            batchModels.removeAll(keepingCapacity: true)
            batchTokens.removeAll(keepingCapacity: true)
            batchLogits.removeAll(keepingCapacity: true)
        }

        // vLLM's `RequestOutput.from_seq_group` sorts the candidates by cumulative logprob
        // whatever best_of is; equal scores keep candidate order (Python's sort is stable). Each
        // returned choice keeps its candidate's index, `seqs.index(seq)` (vLLM's
        // `CompletionOutput.index` is the sequence's place in its group, not its rank): with
        // best_of == n the index its text streamed under, with best_of > n one of 0 ..< best_of.
        let order = progress.indices.sorted {
            let (a, b) = (progress[$0].cumulativeLogprob, progress[$1].cumulativeLogprob)
            return a > b || (a == b && $0 < $1)
        }
        let outputs = order.prefix(parameters.n).map { progress[$0].output(index: $0) }
        if streams { return outputs }
        for output in outputs {
            try onEvent(.delta(index: output.index, text: output.text, tokenIDs: output.tokenIDs,
                               logprobs: output.logprobs ?? []))
        }
        return outputs
    }
}
