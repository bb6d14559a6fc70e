import Foundation
import ModelFormats
import Tensor
import Testing
@testable import Transformer

/// The forward pass on tiny random models built in memory: against a naive Double reference,
/// batched against one token at a time, and each weight layout against the others.
@Suite("Transformer forward pass on tiny in-memory models")
struct TinyForwardTests {
    static let prompt = [3, 17, 5, 29, 0, 11, 38, 2, 21, 9, 14, 33, 7, 25, 1, 30, 12, 6, 19, 27]

    @Test("Llama: every prompt position matches the naive reference", arguments: [false, true])
    func llamaMatchesReference(tied: Bool) throws {
        let tiny = TinyModel(TinyModel.config(tied: tied))
        let expected = ReferenceForward(model: tiny).logits(Self.prompt)
        let got = try tiny.model().prefillAllPositions(tokens: Self.prompt)
        let delta = maxAbsDifference(got, expected)
        #expect(delta < 1e-4, "max |Δlogit| = \(delta)")
    }

    @Test("Mistral's sliding window: tokens past the window are not attended")
    func slidingWindowMatchesReference() throws {
        let tiny = TinyModel(TinyModel.config(architecture: .mistral, window: 4))
        let expected = ReferenceForward(model: tiny).logits(Self.prompt)
        let model = try tiny.model()
        let got = try model.prefillAllPositions(tokens: Self.prompt)
        #expect(maxAbsDifference(got, expected) < 1e-4)
        // And it matters: without the window the logits past position 4 differ.
        var unwindowed = tiny
        unwindowed.config.slidingWindow = nil
        let full = ReferenceForward(model: unwindowed).logits(Self.prompt)
        #expect(maxAbsDifference(Array(got.suffix(10)), Array(full.suffix(10))) > 1e-3)
    }

    @Test("Batched prefill, chunked prefill and token-by-token decode agree")
    func batchedEqualsSequential() throws {
        let tiny = TinyModel(TinyModel.config(architecture: .mistral, window: 6))
        let batched = try tiny.model().prefillAllPositions(tokens: Self.prompt)

        let chunked = try tiny.model(options: ModelOptions(prefillBatchSize: 7)).prefillAllPositions(tokens: Self.prompt)
        #expect(maxAbsDifference(batched, chunked) < 1e-5)

        let stepper = try tiny.model()
        var sequential: [[Float]] = []
        for t in Self.prompt { sequential.append(try stepper.decode(token: t)) }
        #expect(maxAbsDifference(batched, sequential) < 1e-5)
        #expect(stepper.position == Self.prompt.count)

        // prefill(tokens:) returns the last row, then decoding continues from there.
        let split = try tiny.model(options: ModelOptions(prefillBatchSize: 3))
        let last = try split.prefill(tokens: Array(Self.prompt.prefix(12)))
        #expect(maxAbsDifference(last, batched[11]) < 1e-5)
        let next = try split.decode(token: Self.prompt[12])
        #expect(maxAbsDifference(next, batched[12]) < 1e-5)
    }

    @Test("GGUF layout (permuted Q/K, adjacent-pair RoPE) gives the Hugging Face logits")
    func ggufLayoutMatchesHuggingFace() throws {
        let tiny = TinyModel(TinyModel.config())
        var ggufConfig = tiny.config
        ggufConfig.ropeConvention = .adjacentPairs
        let gguf = try TransformerModel(config: ggufConfig, source: tiny.ggufTensors(), naming: .gguf)
        let hf = try tiny.model()
        let delta = maxAbsDifference(try gguf.prefillAllPositions(tokens: Self.prompt),
                                     try hf.prefillAllPositions(tokens: Self.prompt))
        #expect(delta < 1e-5, "max |Δlogit| = \(delta)")
    }

    @Test("Phi-3's fused projections give the same logits as the split ones")
    func phi3FusedMatchesSplit() throws {
        let tiny = TinyModel(TinyModel.config())
        var config = tiny.config
        config.architecture = .phi3
        let phi3 = try TransformerModel(config: config, source: tiny.phi3Tensors(), naming: .huggingFace)
        let expected = ReferenceForward(model: tiny).logits(Self.prompt)
        let got = try phi3.prefillAllPositions(tokens: Self.prompt)
        #expect(maxAbsDifference(got, expected) < 1e-4)
        // Decoding on top of a prefill takes the one-row path through the same fused weights.
        let stepped = try TransformerModel(config: config, source: tiny.phi3Tensors(), naming: .huggingFace)
        _ = try stepped.prefill(tokens: Array(Self.prompt.prefix(10)))
        let step = try stepped.decode(token: Self.prompt[10])
        #expect(maxAbsDifference(step, got[10]) < 1e-5)
    }

    @Test("Quantized weights run through the same pass (Q8_0 close to F32)")
    func quantizedWeights() throws {
        // hidden 64 so rows are whole Q8_0 blocks.
        let tiny = TinyModel(TinyModel.config(hidden: 64, ffn: 64, heads: 4, kvHeads: 1))
        var tensors = try tiny.huggingFaceTensors()
        for (name, t) in tensors where t.shape.rank == 2 {
            tensors[name] = try Q8Quantizer.quantize(t.toFloats(), shape: t.shape)
        }
        #expect(tensors["model.layers.0.mlp.up_proj.weight"]?.type == .q8_0)
        let q8 = try TransformerModel(config: tiny.config, source: tensors, naming: .huggingFace)
        let f32 = try tiny.model()
        let a = try q8.prefillAllPositions(tokens: Self.prompt)
        let b = try f32.prefillAllPositions(tokens: Self.prompt)
        let range = (b.joined().max() ?? 0) - (b.joined().min() ?? 0)
        #expect(maxAbsDifference(a, b) < 0.02 * range)
        // One-row decode (matrix × vector) agrees with the batched path on quantized weights too.
        let stepper = try TransformerModel(config: tiny.config, source: tensors, naming: .huggingFace)
        var rows: [[Float]] = []
        for t in Self.prompt { rows.append(try stepper.decode(token: t)) }
        #expect(maxAbsDifference(rows, a) < 1e-4)
    }
}

/// Q8_0 blocks as ggml's reference quantizer makes them (d = max|x| / 127, q = round(x / d)).
enum Q8Quantizer {
    static func quantize(_ values: [Float], shape: Shape) throws -> Tensor {
        var bytes: [UInt8] = []
        for block in stride(from: 0, to: values.count, by: 32) {
            let xs = values[block..<block + 32]
            let amax = xs.map(abs).max() ?? 0
            let d = amax / 127
            let id: Float = d == 0 ? 0 : 1 / d
            withUnsafeBytes(of: Float16(d).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            for x in xs { bytes.append(UInt8(bitPattern: Int8((x * id).rounded()))) }
        }
        return try bytes.withUnsafeBytes { try Tensor(type: .q8_0, shape: shape, copying: $0) }
    }
}
