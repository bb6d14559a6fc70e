import Foundation
import Testing
@testable import Sampling

/// Each processor and filter alone, on small vectors whose results are worked out by hand in the
/// comments, and the vocabulary-scale paths against a plain sort-based reference.
@Suite("Logit processors and filters")
struct ProcessorTests {
    // Prompt [0, 1], output [1, 3, 3]; 99 and -1 are outside the vocabulary and must be ignored.
    static let history = TokenHistory(prompt: [0, 1, 99], output: [1, 3, 3, -1])
    static let logits: [Float] = [2.0, -1.0, 0.5, -3.0, 1.0]

    @Test("Repetition penalty: prompt and output ids, divided when positive, multiplied when negative")
    func repetition() {
        var l = Self.logits
        var p = RepetitionPenalty(penalty: 1.5)
        p.process(&l, history: Self.history)
        // 0 (prompt only): 2 / 1.5; 1 (prompt and output, once): -1 * 1.5; 3 (output twice,
        // once): -3 * 1.5; 2 and 4 unseen.
        #expect(l == [Float(2.0) / 1.5, -1.5, 0.5, -4.5, 1.0])
        // A penalty below 1 rewards: 2 / 0.5 = 4, -1 * 0.5 = -0.5.
        var r = Self.logits
        var reward = RepetitionPenalty(penalty: 0.5)
        reward.process(&r, history: Self.history)
        #expect(r == [4.0, -0.5, 0.5, -1.5, 1.0])
    }

    @Test("Frequency penalty: per occurrence in the output only; a prompt-only id is untouched")
    func frequency() {
        var l = Self.logits
        var p = FrequencyPenalty(penalty: 0.5)
        p.process(&l, history: Self.history)
        // 1 once: -1 - 0.5; 3 twice: -3 - 1.0; 0 only in the prompt: unchanged.
        #expect(l == [2.0, -1.5, 0.5, -4.0, 1.0])
        // The scratch counts are cleared: a second pass subtracts the same again.
        p.process(&l, history: Self.history)
        #expect(l == [2.0, -2.0, 0.5, -5.0, 1.0])
    }

    @Test("Presence penalty: once per id present in the output; a prompt-only id is untouched")
    func presence() {
        var l = Self.logits
        var p = PresencePenalty(penalty: 0.25)
        p.process(&l, history: Self.history)
        #expect(l == [2.0, -1.25, 0.5, -3.25, 1.0])
        var negative = Self.logits
        var bonus = PresencePenalty(penalty: -2)
        bonus.process(&negative, history: Self.history)
        #expect(negative == [2.0, 1.0, 0.5, -1.0, 1.0])
    }

    @Test("The penalties chain on the same logits: repetition, then frequency, then presence")
    func chained() {
        var l = Self.logits
        var r = RepetitionPenalty(penalty: 1.5), f = FrequencyPenalty(penalty: 0.5), p = PresencePenalty(penalty: 0.25)
        r.process(&l, history: Self.history)
        f.process(&l, history: Self.history)
        p.process(&l, history: Self.history)
        // 1: -1 * 1.5 - 0.5 - 0.25 = -2.25; 3: -3 * 1.5 - 1.0 - 0.25 = -5.75.
        #expect(l == [Float(2.0) / 1.5, -2.25, 0.5, -5.75, 1.0])
    }

    @Test("Temperature divides every logit, including a vector tail")
    func temperature() {
        var l: [Float] = (0 ..< 37).map { Float($0) - 18 }
        var t = Temperature(temperature: 0.5)
        t.process(&l, history: TokenHistory(prompt: [], output: []))
        #expect(l == (0 ..< 37).map { (Float($0) - 18) / 0.5 })
    }

    func survivors(_ logits: [Float], _ filter: inout some CandidateFilter) -> [Int] {
        var set = CandidateSet(logits: logits)
        filter.apply(to: &set)
        return set.tokens
    }

    @Test("Top-k keeps every token tied with the k-th value")
    func topKTies() {
        let l: [Float] = [1, 3, 2, 3, 2, 0]
        // Sorted: 3 3 2 2 1 0. k=3: the 3rd is 2, so both 2s survive.
        var k3 = TopKFilter(k: 3)
        #expect(survivors(l, &k3) == [1, 2, 3, 4])
        var k1 = TopKFilter(k: 1)
        #expect(survivors(l, &k1) == [1, 3])
        var k5 = TopKFilter(k: 5)
        #expect(survivors(l, &k5) == [0, 1, 2, 3, 4])
        var off = TopKFilter(k: -1)
        #expect(survivors(l, &off) == [0, 1, 2, 3, 4, 5])
    }

    @Test("Top-p at the exact boundary: a cumulative sum equal to 1 - top_p is dropped")
    func topPBoundary() {
        // Four equal logits: probabilities exactly 1/4, ascending sums .25 .5 .75 1. Among ties
        // the lower id counts as more likely, so the highest ids go first.
        let l: [Float] = [0, 0, 0, 0]
        for (p, kept) in [(Float(0.5), [0, 1]), (0.75, [0, 1, 2]), (0.74, [0, 1, 2]), (0.76, [0, 1, 2, 3]), (0.25, [0]), (0.1, [0])] {
            var f = TopPFilter(p: p)
            #expect(survivors(l, &f) == kept, "top_p \(p)")
            // The vocabulary-scale path gives the same answer.
            var b = TopPFilter(p: p, exhaustiveLimit: 0)
            #expect(survivors(l, &b) == kept, "top_p \(p), bucket path")
        }
        // The most likely token always survives, even when it alone exceeds top_p.
        var tiny = TopPFilter(p: 0.01)
        #expect(survivors([5, 0, 0], &tiny) == [0])
    }

    @Test("Top-p applies to the distribution renormalised after top-k")
    func topPAfterTopK() {
        // [2,2,2,2,0,0,0,0], top_k 4 leaves four tokens of probability 1/4 each; top_p 0.45
        // drops ascending sums <= 0.55, i.e. .25 and .5: two survive. Over the whole vocabulary
        // (top4 at e²/(4e²+4) = 0.2202 each, the rest 0.0298) sums <= 0.55 would drop five
        // tokens and keep three, so this checks the renormalisation.
        var set = CandidateSet(logits: [2, 2, 2, 2, 0, 0, 0, 0])
        var k = TopKFilter(k: 4), p = TopPFilter(p: 0.45)
        k.apply(to: &set)
        p.apply(to: &set)
        #expect(set.tokens == [0, 1])
        var whole = TopPFilter(p: 0.45)
        #expect(survivors([2, 2, 2, 2, 0, 0, 0, 0], &whole) == [0, 1, 2])
    }

    @Test("Min-p drops tokens below min_p times the top probability; equality survives")
    func minP() {
        // p_i / p_max = e^-i: 1, 0.3679, 0.1353, 0.0498.
        let l: [Float] = [0, -1, -2, -3]
        for (m, kept) in [(Float(0.2231), [0, 1]), (0.36, [0, 1]), (0.37, [0]), (0.13, [0, 1, 2]), (0.0, [0, 1, 2, 3])] {
            var f = MinPFilter(minP: m)
            #expect(survivors(l, &f) == kept, "min_p \(m)")
        }
        var one = MinPFilter(minP: 1)
        #expect(survivors([1, 1, 0], &one) == [0, 1])
        // On a compact set (after top-k) too.
        var set = CandidateSet(logits: [0, -1, -2, -3, -4])
        var k = TopKFilter(k: 3), f = MinPFilter(minP: 0.2)
        k.apply(to: &set)
        f.apply(to: &set)
        #expect(set.tokens == [0, 1])
    }

    @Test("Greedy: argmax, its log-probability and the alternatives under log-softmax")
    func greedyLogprob() {
        var sampler = TokenSampler(parameters: SamplingParameters(temperature: 0))
        var l: [Float] = [1, 2, 3]
        var g = Xoshiro256StarStar(seed: 1)
        let s = sampler.sample(&l, history: TokenHistory(prompt: [], output: []), using: &g, alternativeCount: 2)
        // log-softmax of [1,2,3]: 3 - ln(e + e² + e³) = -0.40760596.
        #expect(s.token == 2)
        #expect(abs(s.logprob - -0.407_605_96) < 1e-6)
        #expect(sampler.alternatives.map(\.token) == [2, 1])
        #expect(abs(sampler.alternatives[1].logprob - -1.407_605_96) < 1e-6)
    }

    @Test("Sampling: the log-probability is under the renormalised filtered distribution")
    func filteredLogprob() {
        // top_k 2 of [3,1,2,0]: {0, 2} with p = 1/(1+e^-1) = 0.7310586 and 0.2689414.
        var sampler = TokenSampler(parameters: SamplingParameters(topK: 2))
        var seen = Set<Int>()
        var g = Xoshiro256StarStar(seed: 3)
        for _ in 0 ..< 200 {
            var l: [Float] = [3, 1, 2, 0]
            let s = sampler.sample(&l, history: TokenHistory(prompt: [], output: []), using: &g, alternativeCount: 3)
            seen.insert(s.token)
            #expect(abs(s.logprob - (s.token == 0 ? -0.313_261_7 : -1.313_261_7)) < 1e-6)
            // Only survivors are reported as alternatives.
            #expect(sampler.alternatives.map(\.token) == [0, 2])
        }
        #expect(seen == [0, 2])
    }

    @Test("Exp kernel: within 2 ulp-ish of the C library, 0 below -87.3, exactly 1 at 0")
    func expKernel() {
        for i in 0 ..< 2000 {
            let x = Float(i) * -0.05
            let fast = VectorMath.exp(x), reference = Foundation.exp(Double(x))
            #expect(abs(Double(fast) - reference) <= reference * 3e-7 + 1e-37, "x = \(x)")
        }
        #expect(VectorMath.exp(0) == 1)
        #expect(VectorMath.exp(-Float.infinity) == 0)
        let v = VectorMath.exp(VectorMath.Vector(repeating: -3.25))
        #expect(v[5] == VectorMath.exp(-3.25))
    }
}

/// The whole-vocabulary paths (heap scan, distance buckets, vector draws) against a reference
/// that sorts everything.
@Suite("Vocabulary-scale selection")
struct SelectionTests {
    /// Random logits with many exact ties (rounded to 1/8) so the boundaries are exercised.
    static func vector(_ n: Int, seed: UInt64, spread: Float = 4) -> [Float] {
        var g = Xoshiro256StarStar(seed: seed)
        return (0 ..< n).map { _ in (Float(g.nextUnitInterval() * 2 - 1) * spread * 8).rounded() / 8 }
    }

    static func ranked(_ l: [Float]) -> [Int] {
        l.indices.sorted { l[$0] > l[$1] || (l[$0] == l[$1] && $0 < $1) }
    }

    static func referenceTopK(_ l: [Float], _ k: Int) -> [Int] {
        let kth = l.sorted(by: >)[k - 1]
        return l.indices.filter { l[$0] >= kth }
    }

    static func referenceTopP(_ l: [Float], _ p: Float) -> [Int] {
        let m = Double(l.max()!)
        let w = l.map { Foundation.exp(Double($0) - m) }
        let z = w.reduce(0, +)
        var before = 0.0, kept: [Int] = []
        for i in ranked(l) {
            if before >= Double(p) * z, !kept.isEmpty { break }
            kept.append(i)
            before += w[i]
        }
        return kept.sorted()
    }

    @Test("Top-k: heap scan and buckets agree with a full sort", arguments: [1, 7, 40, 1024, 1025, 3000, 9999])
    func topK(k: Int) {
        for seed in 1 ... 3 as ClosedRange<UInt64> {
            let l = Self.vector(10_007, seed: seed)
            var f = TopKFilter(k: k)
            var set = CandidateSet(logits: l)
            f.apply(to: &set)
            #expect(set.tokens == Self.referenceTopK(l, k), "k \(k) seed \(seed)")
        }
    }

    @Test("Top-p over a whole vocabulary agrees with a full sort", arguments: [Float(0.05), 0.5, 0.9, 0.95, 0.999])
    func topP(p: Float) {
        for (seed, spread) in [(UInt64(1), Float(4)), (2, 0.5), (3, 12)] {
            let l = Self.vector(10_007, seed: seed, spread: spread)
            var f = TopPFilter(p: p)
            var set = CandidateSet(logits: l)
            f.apply(to: &set)
            let got = set.tokens, want = Self.referenceTopP(l, p)
            // Double sums in another order can move the boundary by at most a token of equal logit.
            #expect(abs(got.count - want.count) <= 1 && Set(got).symmetricDifference(want).count <= 1,
                    "p \(p) spread \(spread): \(got.count) vs \(want.count)")
        }
    }

    @Test("Top-p after a large top-k (an unranked list of thousands) agrees with a full sort", arguments: [Float(0.3), 0.9, 0.99])
    func topPAfterLargeTopK(p: Float) {
        for seed in 1 ... 3 as ClosedRange<UInt64> {
            let l = Self.vector(10_007, seed: seed, spread: 2)
            var set = CandidateSet(logits: l)
            var k = TopKFilter(k: 3000), f = TopPFilter(p: p)
            k.apply(to: &set)
            #expect(!set.isRanked && set.count > TopPFilter.sortLimit)
            f.apply(to: &set)
            let survivors = Set(Self.referenceTopK(l, 3000))
            let masked = l.indices.map { survivors.contains($0) ? l[$0] : -Float.infinity }
            let want = Self.referenceTopP(masked, p)
            let got = set.tokens
            #expect(abs(got.count - want.count) <= 1 && Set(got).symmetricDifference(want).count <= 1,
                    "p \(p) seed \(seed): \(got.count) vs \(want.count)")
        }
    }

    @Test("Min-p over a whole vocabulary agrees with the direct test")
    func minP() {
        let l = Self.vector(10_007, seed: 9)
        var f = MinPFilter(minP: 0.05)
        var set = CandidateSet(logits: l)
        f.apply(to: &set)
        let m = l.max()!
        #expect(set.tokens == l.indices.filter { Foundation.exp(Double(l[$0] - m)) >= 0.05 })
    }
}
