import Foundation
@testable import Transformer

/// A deliberately naive Llama forward pass in Double, one token at a time, written straight from
/// transformers' modeling_llama.py (half-split RoPE, repeat_kv grouping, optional sliding window).
/// It shares no code with Sparrow's, so agreement checks the math rather than the plumbing.
struct ReferenceForward {
    let model: TinyModel

    /// Logits after each of `tokens`.
    func logits(_ tokens: [Int]) -> [[Double]] {
        let c = model.config, d = c.hiddenSize, hd = c.headDimension
        func w(_ name: String) -> [Double] { model.values(name).map(Double.init) }
        func matvec(_ m: [Double], _ x: [Double]) -> [Double] {
            let cols = x.count
            return (0..<m.count / cols).map { r in (0..<cols).reduce(0) { $0 + m[r * cols + $1] * x[$1] } }
        }
        func rmsNorm(_ x: [Double], _ g: [Double]) -> [Double] {
            let scale = 1 / (x.reduce(0) { $0 + $1 * $1 } / Double(x.count) + Double(c.rmsNormEpsilon)).squareRoot()
            return zip(x, g).map { $0 * scale * $1 }
        }
        let inverseFrequencies = stride(from: 0, to: c.ropeDimensions, by: 2).map {
            1 / pow(Double(c.ropeTheta), Double($0) / Double(c.ropeDimensions))
        }
        func rope(_ v: inout [Double], heads: Int, position: Int) {
            let half = c.ropeDimensions / 2
            for h in 0..<heads {
                for i in 0..<half {
                    let a = Double(position) * inverseFrequencies[i]
                    let x0 = v[h * hd + i], x1 = v[h * hd + i + half]
                    v[h * hd + i] = x0 * cos(a) - x1 * sin(a)
                    v[h * hd + i + half] = x1 * cos(a) + x0 * sin(a)
                }
            }
        }
        let embedding = w("model.embed_tokens.weight")
        let output = c.tieWordEmbeddings ? embedding : w("lm_head.weight")
        var keys = [[[Double]]](repeating: [], count: c.layerCount)
        var values = [[[Double]]](repeating: [], count: c.layerCount)
        var result: [[Double]] = []
        for (position, token) in tokens.enumerated() {
            var x = Array(embedding[token * d..<(token + 1) * d])
            for l in 0..<c.layerCount {
                let p = "model.layers.\(l)."
                let n = rmsNorm(x, w(p + "input_layernorm.weight"))
                var q = matvec(w(p + "self_attn.q_proj.weight"), n)
                var k = matvec(w(p + "self_attn.k_proj.weight"), n)
                let v = matvec(w(p + "self_attn.v_proj.weight"), n)
                rope(&q, heads: c.headCount, position: position)
                rope(&k, heads: c.kvHeadCount, position: position)
                keys[l].append(k)
                values[l].append(v)
                var o = [Double](repeating: 0, count: c.queryWidth)
                let group = c.headCount / c.kvHeadCount
                let first = c.slidingWindow.map { max(0, position - $0 + 1) } ?? 0
                for h in 0..<c.headCount {
                    let g = h / group
                    let scores = (first...position).map { j in
                        (0..<hd).reduce(0) { $0 + q[h * hd + $1] * keys[l][j][g * hd + $1] } / Double(hd).squareRoot()
                    }
                    let top = scores.max() ?? 0
                    let e = scores.map { exp($0 - top) }
                    let sum = e.reduce(0, +)
                    for (jj, j) in (first...position).enumerated() {
                        for i in 0..<hd { o[h * hd + i] += e[jj] / sum * values[l][j][g * hd + i] }
                    }
                }
                x = zip(x, matvec(w(p + "self_attn.o_proj.weight"), o)).map(+)
                let m = rmsNorm(x, w(p + "post_attention_layernorm.weight"))
                let gate = matvec(w(p + "mlp.gate_proj.weight"), m)
                let up = matvec(w(p + "mlp.up_proj.weight"), m)
                let hidden = zip(gate, up).map { $0 / (1 + exp(-$0)) * $1 }
                x = zip(x, matvec(w(p + "mlp.down_proj.weight"), hidden)).map(+)
            }
            result.append(matvec(output, rmsNorm(x, w("model.norm.weight"))))
        }
        return result
    }
}

func maxAbsDifference(_ a: [[Float]], _ b: [[Double]]) -> Double {
    guard a.count == b.count else { return .infinity }
    var worst = 0.0
    for (x, y) in zip(a, b) {
        guard x.count == y.count else { return .infinity }
        for (p, q) in zip(x, y) { worst = max(worst, abs(Double(p) - q)) }
    }
    return worst
}
