import Foundation
@testable import Sampling
import SparrowTestSupport

/// A toy sequence model: the logits after each prefix of generated ids come from a function, so
/// tests know every distribution exactly. Counts its forks and decodes.
final class TableModel: SequenceModel {
    let vocabularySize: Int
    let contextLength: Int
    let promptLength: Int
    private(set) var generated: [Int] = []
    let logitsAfter: @Sendable ([Int]) -> [Float]
    let counters: Counters

    final class Counters: @unchecked Sendable {
        var forks = 0
        var decodes = 0
    }

    init(vocabularySize: Int, promptLength: Int, contextLength: Int = 1000,
         counters: Counters = Counters(), logitsAfter: @escaping @Sendable ([Int]) -> [Float]) {
        self.vocabularySize = vocabularySize
        self.promptLength = promptLength
        self.contextLength = contextLength
        self.counters = counters
        self.logitsAfter = logitsAfter
    }

    var position: Int { promptLength + generated.count }

    /// The logits after the prompt.
    var promptLogits: [Float] { logitsAfter([]) }

    func decode(token: Int, into logits: inout [Float]) throws {
        guard position < contextLength else { throw ToyError.contextFull }
        counters.decodes += 1
        generated.append(token)
        logits = logitsAfter(generated)
    }

    func fork() throws -> TableModel {
        counters.forks += 1
        let copy = TableModel(vocabularySize: vocabularySize, promptLength: promptLength, contextLength: contextLength,
                              counters: counters, logitsAfter: logitsAfter)
        copy.generated = generated
        return copy
    }
}

enum ToyError: Error { case contextFull }

/// Each id is a fixed piece of text; nothing is held back.
struct PieceDetokenizer: TextDetokenizer {
    var pieces: [Int: String]
    mutating func append(_ id: Int) throws -> String { pieces[id] ?? "<\(id)>" }
    mutating func finish() -> String { "" }
}

/// Log-softmax in Double, the independent reference for log-probabilities.
func logSoftmax(_ logits: [Float]) -> [Double] {
    let x = logits.map(Double.init)
    let m = x.max() ?? 0
    let z = x.reduce(0) { $0 + Foundation.exp($1 - m) }
    return x.map { $0 - m - Foundation.log(z) }
}

/// The fixture file written by Fixtures/sampling/make_fixtures.py.
struct Expected: Decodable {
    struct Xoshiro: Decodable {
        var seed: String
        var outputs: [String]
        var units: [Double]
        var afterJump: [String]
    }
    struct Distribution: Decodable {
        var name: String
        var logits: [Float]
        var temperature: Float
        var topK: Int
        var topP: Float
        var probabilities: [Double]
        var degreesOfFreedom: Int
        var critical: Double
    }
    struct Beams: Decodable {
        struct Row: Decodable {
            var prefix: [Int]
            var logits: [Float]
        }
        struct Beam: Decodable {
            var tokens: [Int]
            var endedByEOS: Bool
            /// vLLM's `CompletionOutput.index`: the beam's place in its sequence group.
            var index: Int
            var cumulativeLogprob: Double
            var score: Double
        }
        struct Case: Decodable {
            var lengthPenalty: Double
            var earlyStopping: String
            var expected: [Beam]
        }
        var vocabulary: Int
        var promptLength: Int
        var maxTokens: Int
        var width: Int
        var n: Int
        var eos: Int
        var contextLength: Int
        var table: [Row]
        var cases: [Case]
    }
    var xoshiro: [Xoshiro]
    var distributions: [Distribution]
    var beams: Beams

    static let shared: Expected? = {
        guard let data = try? Data(contentsOf: FixturePaths.url("sampling/expected.json")) else { return nil }
        return try? JSONDecoder().decode(Expected.self, from: data)
    }()
}
