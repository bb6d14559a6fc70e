import Foundation
import Testing
@testable import Sampling

/// What the toy models of this file saw: every batched call's size and the sizes of the rows it
/// was handed, per-token decodes, and whether a batch ever held one sequence twice.
final class DecodeLog: @unchecked Sendable {
    var batchSizes: [Int] = []
    var incomingRowSizes: [[Int]] = []
    var singleDecodes = 0
    var forks = 0
    var repeatedSequence = false
    /// The lane the next fork gets; the first model is lane 0.
    var nextLane = 1
}

/// One toy sequence: its logits come from a function of its lane (the order it was forked in)
/// and its generated ids, so tests can make each best_of candidate behave differently.
final class ToySequence {
    let vocabularySize: Int
    let promptLength: Int
    let lane: Int
    let log: DecodeLog
    let logitsAfter: @Sendable (_ lane: Int, _ generated: [Int]) -> [Float]
    private(set) var generated: [Int] = []

    init(vocabularySize: Int, promptLength: Int, lane: Int = 0, log: DecodeLog,
         logitsAfter: @escaping @Sendable (_ lane: Int, _ generated: [Int]) -> [Float]) {
        self.vocabularySize = vocabularySize
        self.promptLength = promptLength
        self.lane = lane
        self.log = log
        self.logitsAfter = logitsAfter
    }

    var position: Int { promptLength + generated.count }
    var promptLogits: [Float] { logitsAfter(lane, []) }

    func append(_ token: Int, into logits: inout [Float]) {
        generated.append(token)
        logits = logitsAfter(lane, generated)
    }

    func fork() -> ToySequence {
        log.forks += 1
        let copy = ToySequence(vocabularySize: vocabularySize, promptLength: promptLength, lane: log.nextLane,
                               log: log, logitsAfter: logitsAfter)
        log.nextLane += 1
        copy.generated = generated
        return copy
    }
}

/// A toy model with only the per-token decode: the protocol's default batched decode loops over it.
final class PerTokenModel: SequenceModel {
    let sequence: ToySequence
    init(_ sequence: ToySequence) { self.sequence = sequence }

    var vocabularySize: Int { sequence.vocabularySize }
    var contextLength: Int { 1000 }
    var position: Int { sequence.position }

    func decode(token: Int, into logits: inout [Float]) throws {
        sequence.log.singleDecodes += 1
        sequence.append(token, into: &logits)
    }

    func fork() throws -> PerTokenModel { PerTokenModel(sequence.fork()) }
}

/// The same toy model with its own batched decode, which logs every call.
final class BatchingModel: SequenceModel {
    let sequence: ToySequence
    init(_ sequence: ToySequence) { self.sequence = sequence }

    var vocabularySize: Int { sequence.vocabularySize }
    var contextLength: Int { 1000 }
    var position: Int { sequence.position }

    func decode(token: Int, into logits: inout [Float]) throws {
        sequence.log.singleDecodes += 1
        sequence.append(token, into: &logits)
    }

    static func decode(_ sequences: [BatchingModel], tokens: [Int], into logits: inout [[Float]]) throws {
        guard let log = sequences.first?.sequence.log else { return }
        log.batchSizes.append(sequences.count)
        log.incomingRowSizes.append(logits.map(\.count))
        if Set(sequences.map(ObjectIdentifier.init)).count != sequences.count { log.repeatedSequence = true }
        logits = zip(sequences, tokens).map { model, token in
            var row: [Float] = []
            model.sequence.append(token, into: &row)
            return row
        }
    }

    func fork() throws -> BatchingModel { BatchingModel(sequence.fork()) }
}

@Suite("Batched decode")
struct BatchedDecodeTests {
    struct Run: Equatable {
        var outputs: [SequenceOutput]
        var events: [GenerationEvent]
    }

    static func run<Model: SequenceModel>(
        _ model: Model, promptLogits: [Float], parameters: SamplingParameters, vocabulary: Int
    ) throws -> Run {
        var events: [GenerationEvent] = []
        let detokenizer = PieceDetokenizer(pieces: Dictionary(uniqueKeysWithValues: (0 ..< vocabulary).map { ($0, "<\($0)>") }))
        let outputs = try generate(
            model: model, promptLogits: promptLogits, detokenizer: detokenizer,
            setup: GenerationSetup(parameters: parameters, promptTokens: [5, 6, 7], endTokenIDs: [0])) { events.append($0) }
        return Run(outputs: outputs, events: events)
    }

    /// Logits in [0, 2) for ids 1 ..< vocabulary, a function of the generated ids.
    static func noise(_ generated: [Int], vocabulary: Int) -> [Float] {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for t in generated { h = (h ^ UInt64(t)) &* 0x100_0000_01B3 }
        var g = Xoshiro256StarStar(seed: h)
        return (0 ..< vocabulary).map { _ in Float(g.nextUnitInterval() * 2) }
    }

    // Candidate i (lane i: the model itself, then the forks in order) samples the end id 0 once it
    // has endsAfter[i] tokens, and never before; candidate 3 runs to max_tokens 5. Decoding
    // follows every sampled token but a sequence's last, so rounds 1 ... 4 decode 4, 3, 2 and 1
    // candidates.
    static let endsAfter = [1, 2, 3]
    static let sampledVocabulary = 8
    static func sampledLogits(lane: Int, generated: [Int]) -> [Float] {
        var logits = noise(generated, vocabulary: sampledVocabulary)
        logits[0] = lane < endsAfter.count && generated.count == endsAfter[lane] ? 50 : -100
        return logits
    }

    static func sampled(_ parameters: SamplingParameters, batching: Bool) throws -> (Run, DecodeLog) {
        let log = DecodeLog()
        let sequence = ToySequence(vocabularySize: sampledVocabulary, promptLength: 3, log: log) {
            sampledLogits(lane: $0, generated: $1)
        }
        let run = batching
            ? try run(BatchingModel(sequence), promptLogits: sequence.promptLogits, parameters: parameters, vocabulary: sampledVocabulary)
            : try run(PerTokenModel(sequence), promptLogits: sequence.promptLogits, parameters: parameters, vocabulary: sampledVocabulary)
        return (run, log)
    }

    @Test("best_of 4: each round decodes every running candidate in one call, the same tokens as one at a time",
          arguments: [4, 2])
    func sampledRounds(n: Int) throws {
        let parameters = SamplingParameters(maxTokens: 5, n: n, bestOf: 4, temperature: 1, seed: 2024, logprobs: 2)
        let (batched, log) = try Self.sampled(parameters, batching: true)
        let (reference, referenceLog) = try Self.sampled(parameters, batching: false)

        #expect(log.batchSizes == [4, 3, 2, 1])
        #expect(log.singleDecodes == 0)
        #expect(!log.repeatedSequence)
        // Every candidate's logit buffer goes into the batch, holding last step's logits.
        #expect(log.incomingRowSizes == [4, 3, 2, 1].map { Array(repeating: Self.sampledVocabulary, count: $0) })
        #expect(referenceLog.batchSizes.isEmpty)
        #expect(referenceLog.singleDecodes == 4 + 3 + 2 + 1)
        #expect(log.forks == 3 && referenceLog.forks == 3)

        #expect(batched == reference)
        #expect(batched.outputs.count == n)
        #expect(batched.outputs.allSatisfy { $0.logprobs?.count == $0.tokenIDs.count })
        #expect(Set(batched.outputs.map(\.cumulativeLogprob)).count == n)
    }

    @Test("best_of 4 with n 4: the candidates end where the model says, streamed in index order")
    func sampledCandidatesEndAsDesigned() throws {
        let parameters = SamplingParameters(maxTokens: 5, n: 4, temperature: 1, seed: 2024)
        let (batched, _) = try Self.sampled(parameters, batching: true)
        let outputs = batched.outputs
        // The end id stays in tokenIDs (vLLM's token_ids); the four come back by cumulative
        // logprob, which here is candidate order (fewer random tokens, higher total).
        #expect(outputs.map(\.index) == [0, 1, 2, 3])
        #expect(outputs.map(\.tokenIDs.count) == [2, 3, 4, 5])
        #expect(outputs.map(\.stopReason) == [.endToken(0), .endToken(0), .endToken(0), nil])
        #expect(outputs.map(\.finishReason) == [.stop, .stop, .stop, .length])
        // Round r reports every candidate still running, in index order, the end id included;
        // ended ones report nothing.
        let indices = batched.events.map { event -> Int in
            guard case let .delta(index, _, _, _) = event else { return -1 }
            return index
        }
        #expect(indices == [0, 1, 2, 3, 0, 1, 2, 3, 1, 2, 3, 2, 3, 3])
    }

    // Beam search, width 3, over the end id 0 (logit -20, never among the best children once
    // a second word is possible) and two words, max_tokens 4. Step 1: one beam has 3 children,
    // the end id's finishes, 2 run. Step 2: 2 beams × 3 children, 2 finish, the best 3 of 4 run.
    // Step 3: 3 beams, the best 6 of 9 children are the 6 word children, 3 run. Step 4 reaches
    // max_tokens: every child finishes, nothing decodes.
    static let beamVocabulary = 3
    static func beamLogits(generated: [Int]) -> [Float] {
        var logits = noise(generated, vocabulary: beamVocabulary).map { $0 * 1.5 }
        logits[0] = -20
        return logits
    }

    static func beams(batching: Bool) throws -> (Run, DecodeLog) {
        let log = DecodeLog()
        let sequence = ToySequence(vocabularySize: beamVocabulary, promptLength: 3, log: log) { beamLogits(generated: $1) }
        let parameters = SamplingParameters(maxTokens: 4, n: 3, bestOf: 3, temperature: 0, useBeamSearch: true, logprobs: 1)
        let run = batching
            ? try run(BatchingModel(sequence), promptLogits: sequence.promptLogits, parameters: parameters, vocabulary: beamVocabulary)
            : try run(PerTokenModel(sequence), promptLogits: sequence.promptLogits, parameters: parameters, vocabulary: beamVocabulary)
        return (run, log)
    }

    @Test("Beam search decodes all of a step's selected children in one call, the same beams as one at a time")
    func beamSteps() throws {
        let (batched, log) = try Self.beams(batching: true)
        let (reference, referenceLog) = try Self.beams(batching: false)

        #expect(log.batchSizes == [2, 3, 3])
        #expect(log.singleDecodes == 0)
        #expect(!log.repeatedSequence)
        #expect(referenceLog.singleDecodes == 2 + 3 + 3)
        #expect(log.forks == referenceLog.forks)

        #expect(batched == reference)
        #expect(batched.outputs.count == 3)
        #expect(batched.outputs.allSatisfy { $0.tokenIDs.count == 4 && $0.finishReason == .length })
        #expect(Set(batched.outputs.map(\.tokenIDs)).count == 3)
    }

    @Test("The default batched decode feeds each sequence its token and gives one row per sequence")
    func defaultBatchedDecode() throws {
        let log = DecodeLog()
        let first = PerTokenModel(ToySequence(vocabularySize: 4, promptLength: 2, log: log) { lane, generated in
            [Float(lane), Float(generated.count), Float(generated.last ?? -1), 0]
        })
        let second = try first.fork()
        var logits: [[Float]] = [[9]]
        try PerTokenModel.decode([first, second], tokens: [3, 1], into: &logits)
        #expect(logits == [[0, 1, 3, 0], [1, 1, 1, 0]])
        #expect(first.sequence.generated == [3] && second.sequence.generated == [1])
        #expect(log.singleDecodes == 2)
        try PerTokenModel.decode([second], tokens: [2], into: &logits)
        #expect(logits == [[1, 2, 2, 0]])
    }

    @Test("A batched decode that returns the wrong number of rows is a typed error")
    func wrongRowCount() throws {
        let log = DecodeLog()
        let model = ShortBatchModel(ToySequence(vocabularySize: 4, promptLength: 0, log: log) { _, _ in [0, 1, 2, 3] })
        #expect(throws: SamplingError.self) {
            try generate(model: model, promptLogits: model.sequence.promptLogits, detokenizer: PieceDetokenizer(pieces: [:]),
                         setup: GenerationSetup(parameters: SamplingParameters(maxTokens: 3, n: 2, temperature: 0),
                                                promptTokens: [], endTokenIDs: []))
        }
    }
}

/// A model whose batched decode drops the last sequence's row.
final class ShortBatchModel: SequenceModel {
    let sequence: ToySequence
    init(_ sequence: ToySequence) { self.sequence = sequence }

    var vocabularySize: Int { sequence.vocabularySize }
    var contextLength: Int { 1000 }
    var position: Int { sequence.position }

    func decode(token: Int, into logits: inout [Float]) throws {
        sequence.append(token, into: &logits)
    }

    static func decode(_ sequences: [ShortBatchModel], tokens: [Int], into logits: inout [[Float]]) throws {
        logits = zip(sequences, tokens).dropLast().map { model, token in
            var row: [Float] = []
            model.sequence.append(token, into: &row)
            return row
        }
    }

    func fork() throws -> ShortBatchModel { ShortBatchModel(sequence.fork()) }
}
