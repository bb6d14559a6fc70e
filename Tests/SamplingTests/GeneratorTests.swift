import Foundation
import Testing
@testable import Sampling

/// The seeded generator against an independent transcription of the reference C code, and the
/// sampler's draws against the probabilities the fixture script computes (chi-square).
@Suite("Seeded generator and draws")
struct GeneratorTests {
    @Test("xoshiro256** seeded by SplitMix64 matches the reference algorithm, jumps included")
    func referenceOutputs() throws {
        let expected = try #require(Expected.shared, "Fixtures/sampling/expected.json")
        for c in expected.xoshiro {
            let seed = try #require(UInt64(c.seed))
            var g = Xoshiro256StarStar(seed: seed)
            #expect((0 ..< 5).map { _ in String(g.next()) } == c.outputs)
            var u = Xoshiro256StarStar(seed: seed)
            #expect((0 ..< 3).map { _ in u.nextUnitInterval() } == c.units)
            var j = Xoshiro256StarStar(seed: seed)
            j.jump()
            #expect((0 ..< 3).map { _ in String(j.next()) } == c.afterJump)
            var s = Xoshiro256StarStar(seed: seed).stream(1)
            #expect(String(s.next()) == c.afterJump[0])
        }
    }

    static func draws(_ parameters: SamplingParameters, logits: [Float], count: Int, seed: UInt64) -> [Int] {
        var sampler = TokenSampler(parameters: parameters)
        var g = Xoshiro256StarStar(seed: seed)
        var out: [Int] = []
        var buffer = logits
        for _ in 0 ..< count {
            buffer = logits
            out.append(sampler.sample(&buffer, history: TokenHistory(prompt: [], output: []), using: &g).token)
        }
        return out
    }

    @Test("20,000 seeded draws match the filtered distribution (chi-square, p > 0.001)", arguments: 0 ..< 3)
    func chiSquare(index: Int) throws {
        let expected = try #require(Expected.shared, "Fixtures/sampling/expected.json")
        let c = expected.distributions[index]
        let draws = Self.draws(SamplingParameters(temperature: Double(c.temperature), topP: Double(c.topP), topK: c.topK),
                               logits: c.logits, count: 20_000, seed: 2024)
        var counts = [Int](repeating: 0, count: c.logits.count)
        for t in draws { counts[t] += 1 }
        var statistic = 0.0
        for (token, p) in c.probabilities.enumerated() {
            if p == 0 {
                #expect(counts[token] == 0, "\(c.name): token \(token) was filtered out but drawn")
                continue
            }
            let e = p * 20_000
            statistic += (Double(counts[token]) - e) * (Double(counts[token]) - e) / e
        }
        // The critical value of chi-square with the case's degrees of freedom at p = 0.001,
        // computed by the fixture script (16.27 for 3, 72.05 for 39).
        #expect(statistic < c.critical, "\(c.name): chi-square \(statistic) >= \(c.critical) (df \(c.degreesOfFreedom))")
    }

    @Test("The same seed reproduces the same draws; different seeds differ")
    func reproducible() {
        let logits: [Float] = (0 ..< 300).map { Float(($0 * 37) % 101) / 20 }
        let p = SamplingParameters(temperature: 1.1, topP: 0.95)
        let a = Self.draws(p, logits: logits, count: 200, seed: 99)
        #expect(a == Self.draws(p, logits: logits, count: 200, seed: 99))
        #expect(a != Self.draws(p, logits: logits, count: 200, seed: 100))
        #expect(Set(a).count > 10)
    }
}
