#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A beam's score: `cumulative_logprob / seq_len ** length_penalty`, vLLM 0.4.x's
/// `Sequence.get_beam_search_score`.
///
/// `seq_len` is `promptLength + generatedCount`: vLLM counts the prompt (Hugging Face counts
/// only the generated ids). What `generatedCount` holds depends on the use, as in vLLM: during
/// the search a final tokenizer eos is left out (vLLM passes `eos_token_id`), in the final
/// ranking it is counted (see ``BeamSearch``). With length_penalty 1 a prompt of 100 tokens
/// therefore weighs a 5-token beam against a 6-token one as 105 against 106.
public func beamSearchScore(cumulativeLogprob: Double, promptLength: Int, generatedCount: Int, lengthPenalty: Double) -> Double {
    cumulativeLogprob / pow(Double(promptLength + generatedCount), lengthPenalty)
}

/// vLLM 0.4.x's beam search (`_beam_search_sample` and `_process_sequence_group_outputs`).
///
/// Each step every running beam's log-probabilities (after the penalties and min-p; beam search
/// has no temperature, top-k or top-p) are added to its cumulative log-probability, and the
/// top 2 × width (parent, token) pairs across all beams become children. Children are checked
/// for stops; the finished ones join the finished pool and the running ones are ranked, each kept
/// to the best `width` by ``beamSearchScore(cumulativeLogprob:promptLength:generatedCount:lengthPenalty:)``.
/// The search ends when nothing runs, or when `width` beams have finished and early stopping
/// allows: `true` at once; `false` when the worst finished score is at least the best running
/// beam's current score; `"never"` as `false` but with the running beam scored at the longest
/// length it can reach when length_penalty > 0 — `min(prompt + max_tokens, context + 1)`.
/// (vLLM uses `max(prompt + max_tokens, max_model_len)`, a looser bound: both are upper bounds of
/// what any running beam can still score, so the returned beams are the same; this one stops
/// sooner.)
///
/// The search score leaves a final tokenizer eos out of the length (vLLM's search passes
/// `eos_token_id` to `get_beam_search_score`, as Hugging Face does); other end ids and stop
/// token ids count. The `width` finished beams are then ranked again for the answer with the eos
/// counted (vLLM's `RequestOutput.from_seq_group` calls the score without `eos_token_id`), and
/// the best `n` are returned. The two orders differ: with length penalty 1 and a negative
/// cumulative logprob, a beam ending in eos scores better in the final ranking than it did
/// during the search, so a short beam ending in eos can overtake a longer one that won the
/// search. This follows vLLM, as the API promises vLLM's answers.
///
/// min-p can leave a beam fewer than 2 × width tokens; as in vLLM, whose `torch.topk` then also
/// takes tokens of log-probability -inf, each beam offers its removed tokens too, in increasing
/// id order after its survivors. Such "dead" beams (cumulative logprob -inf) rank last but stay
/// beams, so `n` beams are returned whenever `width` beams could be formed.
///
/// Equal scores keep vLLM's order: children grouped by parent, in parent order, each parent's
/// children most likely first; sorts are stable. A parent's last selected child continues the
/// parent's model and each other one gets a fork taken before the parent moves on; parents with no
/// selected child are released. All the selected children then decode their tokens in one
/// ``SequenceModel/decode(_:tokens:into:)`` call, so a batching model steps the beams in one
/// forward pass.
///
/// Each returned beam's index is vLLM's `CompletionOutput.index`, `seqs.index(seq)`: its place
/// in the sequence group (`seq_group.seqs_dict`, in insertion order), which the search keeps as
/// `_process_sequence_group_outputs` does. A parent's last child continues the parent's
/// sequence, so it keeps the parent's place; the other children are new sequences, added at the
/// end once selected — the selected new finished beams first, in score order, then the selected
/// running ones; a parent without children, a finished beam pushed out of the best `width`, and
/// an unselected child that continues its parent leave the group. When the search ends only the
/// finished beams are left, so the indices are a subset of 0 ..< width, in no relation to rank.
struct BeamSearch<Model: SequenceModel, Detokenizer: TextDetokenizer> {
    let setup: GenerationSetup
    let parameters: SamplingParameters
    let rules: StopRules
    let width: Int

    private struct Beam {
        /// The sequence's id, for its place in the group.
        var id: Int
        var model: Model
        var logits: [Float]
        var progress: SequenceProgress<Detokenizer>
    }

    private struct Child {
        var parent: Int
        var token: Int
        var id: Int
        /// Whether it continues its parent's sequence (the parent's last child) rather than forks it.
        var continuesParent: Bool
        var progress: SequenceProgress<Detokenizer>
        var score: Double
    }

    private struct Finished {
        var id: Int
        var continuesParent: Bool
        var progress: SequenceProgress<Detokenizer>
    }

    init(setup: GenerationSetup) {
        self.setup = setup
        parameters = setup.parameters.effective
        rules = StopRules(setup: setup)
        width = parameters.effectiveBestOf
    }

    /// The search score: a final tokenizer eos is not counted in the length.
    private func score(_ p: SequenceProgress<Detokenizer>) -> Double {
        let endsInEOS = p.tokens.last != nil && p.tokens.last == setup.eosTokenID
        return beamSearchScore(cumulativeLogprob: p.cumulativeLogprob, promptLength: setup.promptTokens.count,
                               generatedCount: p.tokens.count - (endsInEOS ? 1 : 0), lengthPenalty: parameters.lengthPenalty)
    }

    /// The final ranking's score: every generated id counts in the length.
    private func finalScore(_ p: SequenceProgress<Detokenizer>) -> Double {
        beamSearchScore(cumulativeLogprob: p.cumulativeLogprob, promptLength: setup.promptTokens.count,
                        generatedCount: p.tokens.count, lengthPenalty: parameters.lengthPenalty)
    }

    func run(
        model: Model, promptLogits: [Float], detokenizer: Detokenizer,
        onEvent: (GenerationEvent) throws -> Void
    ) throws -> [SequenceOutput] {
        var sampler = TokenSampler(parameters: parameters)
        let expansion = 2 * width
        let reported = parameters.logprobs ?? 0
        var beams = [Beam(id: 0, model: model, logits: promptLogits,
                          progress: SequenceProgress(detokenizer: detokenizer, rules: rules))]
        var finished: [Finished] = []
        // vLLM's sequence group: the ids of its sequences in insertion order.
        var group = [0]
        var nextID = 1

        while !beams.isEmpty {
            if Task.isCancelled { throw CancellationError() }
            // The top 2·width (parent, token) pairs by parent cumulative + token log-probability.
            var pairs: [(parent: Int, token: Int, logprob: Float, total: Double, top: [TokenAlternative])] = []
            for b in beams.indices {
                sampler.mostLikely(&beams[b].logits,
                                   history: TokenHistory(prompt: setup.promptTokens, output: beams[b].progress.tokens),
                                   count: max(expansion, reported))
                let alternatives = sampler.alternatives
                let top = reported > 0 ? Array(alternatives.prefix(reported)) : []
                for a in alternatives.prefix(expansion) {
                    pairs.append((b, a.token, a.logprob, beams[b].progress.cumulativeLogprob + Double(a.logprob), top))
                }
                if alternatives.count < expansion {
                    for token in Self.removedTokens(count: expansion - alternatives.count, besides: alternatives,
                                                    vocabularySize: beams[b].model.vocabularySize) {
                        pairs.append((b, token, -.infinity, -.infinity, top))
                    }
                }
            }
            let chosen = pairs.indices.sorted { pairs[$0].total > pairs[$1].total || (pairs[$0].total == pairs[$1].total && $0 < $1) }
                .prefix(expansion).sorted()  // back to parent order, each parent's most likely first
            // Each parent's last child continues it; a parent without children leaves the group.
            var lastChild: [Int: Int] = [:]
            for i in chosen { lastChild[pairs[i].parent] = i }
            for b in beams.indices where lastChild[b] == nil { group.removeAll { $0 == beams[b].id } }

            var newFinished: [Finished] = []
            var running: [Child] = []
            for i in chosen {
                let pair = pairs[i]
                var progress = beams[pair.parent].progress
                let parentModel = beams[pair.parent].model
                try progress.accept(pair.token, logprob: pair.logprob, alternatives: pair.top, rules: rules,
                                    atContextLimit: parentModel.position >= parentModel.contextLength)
                let continuesParent = lastChild[pair.parent] == i
                let id = continuesParent ? beams[pair.parent].id : nextID
                if !continuesParent { nextID += 1 }
                if progress.isFinished {
                    newFinished.append(Finished(id: id, continuesParent: continuesParent, progress: progress))
                } else {
                    running.append(Child(parent: pair.parent, token: pair.token, id: id, continuesParent: continuesParent,
                                         progress: progress, score: score(progress)))
                }
            }

            let allFinished = Self.stableSorted(finished + newFinished) { score($0.progress) > score($1.progress) }
            finished = Array(allFinished.prefix(width))
            // Kept new forks join the group; dropped sequences already in it (earlier finished
            // beams, children that continue their parent) leave.
            let newIDs = Set(newFinished.map(\.id))
            for f in finished where !f.continuesParent && newIDs.contains(f.id) { group.append(f.id) }
            for f in allFinished.dropFirst(width) where f.continuesParent || !newIDs.contains(f.id) {
                group.removeAll { $0 == f.id }
            }
            running = Self.stableSorted(running) { $0.score > $1.score }

            let stops = running.isEmpty
                || shouldStop(allFinished: allFinished.map(\.progress), best: running[0], contextLength: model.contextLength)
            let selected = stops ? [] : running.prefix(width)
            for child in selected where !child.continuesParent { group.append(child.id) }
            for child in running.dropFirst(selected.count) where child.continuesParent { group.removeAll { $0 == child.id } }
            if stops { break }
            try advance(&beams, selected)
        }

        let ranked = Self.stableSorted(finished) { finalScore($0.progress) > finalScore($1.progress) }
        let outputs = ranked.prefix(parameters.n).enumerated().map { rank, beam in
            beam.progress.output(index: group.firstIndex(of: beam.id) ?? rank)
        }
        for output in outputs {
            try onEvent(.delta(index: output.index, text: output.text, tokenIDs: output.tokenIDs,
                               logprobs: output.logprobs ?? []))
        }
        return outputs
    }

    /// vLLM's `_check_beam_search_early_stopping`, entered once `width` beams have finished.
    private func shouldStop(allFinished: [SequenceProgress<Detokenizer>], best: Child, contextLength: Int) -> Bool {
        guard allFinished.count >= width else { return false }
        let worst = score(allFinished[width - 1])
        switch parameters.earlyStopping {
        case .atOnce:
            return true
        case .heuristic:
            return worst >= best.score
        case .never:
            guard parameters.lengthPenalty > 0 else { return worst >= best.score }
            // Saturating: max_tokens may be huge or absent (the context), and the context length
            // is the model's word.
            let (requested, overflow) = setup.promptTokens.count.addingReportingOverflow(parameters.maxTokens ?? Int.max)
            let longest = min(overflow ? Int.max : requested, contextLength == Int.max ? Int.max : contextLength + 1)
            let attainable = beamSearchScore(
                cumulativeLogprob: best.progress.cumulativeLogprob, promptLength: longest, generatedCount: 0,
                lengthPenalty: parameters.lengthPenalty)
            return worst >= attainable
        }
    }

    /// The next beams: each selected child continues its parent's model (the last of the
    /// parent's children) or a fork of it taken before any decode, and all of them decode their
    /// tokens in one call. Parents without a selected child are dropped, and their logit buffers
    /// reused for the forks.
    private func advance(_ beams: inout [Beam], _ selected: ArraySlice<Child>) throws {
        var remaining = [Int](repeating: 0, count: beams.count)
        for child in selected { remaining[child.parent] += 1 }
        var forks: [[Model]] = beams.indices.map { _ in [] }
        var spareBuffers: [[Float]] = []
        for (b, count) in remaining.enumerated() {
            if count == 0 {
                spareBuffers.append([])
                swap(&spareBuffers[spareBuffers.count - 1], &beams[b].logits)
            }
            for _ in 1 ..< max(1, count) { forks[b].append(try beams[b].model.fork()) }
        }
        var models: [Model] = []
        var tokens: [Int] = []
        var logits: [[Float]] = []
        models.reserveCapacity(selected.count)
        tokens.reserveCapacity(selected.count)
        logits.reserveCapacity(selected.count)
        for child in selected {
            if let fork = forks[child.parent].popLast() {
                models.append(fork)
                logits.append(spareBuffers.popLast() ?? [])
            } else {
                models.append(beams[child.parent].model)
                logits.append([])
                swap(&logits[logits.count - 1], &beams[child.parent].logits)
            }
            tokens.append(child.token)
        }
        try decodeChecked(models, tokens: tokens, into: &logits)
        var next: [Beam] = []
        next.reserveCapacity(selected.count)
        for (slot, child) in selected.enumerated() {
            next.append(Beam(id: child.id, model: models[slot], logits: [], progress: child.progress))
            swap(&next[slot].logits, &logits[slot])
        }
        beams = next
    }

    /// The first `count` ids of the vocabulary that are not among `survivors`: the tokens a
    /// filter removed, which a beam still offers at log-probability -inf.
    private static func removedTokens(count: Int, besides survivors: [TokenAlternative], vocabularySize: Int) -> [Int] {
        let kept = Set(survivors.map(\.token))
        var tokens: [Int] = []
        var id = 0
        while tokens.count < count, id < vocabularySize {
            if !kept.contains(id) { tokens.append(id) }
            id += 1
        }
        return tokens
    }

    private static func stableSorted<T>(_ items: [T], by before: (T, T) -> Bool) -> [T] {
        items.indices.sorted { before(items[$0], items[$1]) || (!before(items[$1], items[$0]) && $0 < $1) }.map { items[$0] }
    }
}
