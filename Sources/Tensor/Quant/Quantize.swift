import ModelFormats

/// What can stop quantizing values into a block format (`ElementType.quantize(_:into:)`).
public enum QuantizeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The value count is not a whole number of the type's blocks.
    case partialBlock(count: Int, blockSize: Int)
    /// The destination does not hold exactly the bytes the values quantize to.
    case destinationSize(expected: Int, actual: Int)
    /// A value is NaN or infinite. llama.cpp refuses such a tensor too (its quantized data fails
    /// validation); a model with one is broken.
    case nonFiniteValue(index: Int)
    /// A block's scale or minimum is beyond Float16's range, which the stored half cannot hold
    /// (llama.cpp's validation refuses such a block).
    case scaleOverflow(block: Int)
    /// A value rounds to infinity in the destination's 16-bit float: beyond Float16's range for F16,
    /// within half a bfloat16 step of Float's largest for BF16 (llama.cpp's validation refuses the
    /// infinity either way).
    case valueOverflow(index: Int)

    public var description: String {
        switch self {
        case .partialBlock(let count, let size): "\(count) values are not whole blocks of \(size)"
        case .destinationSize(let expected, let actual): "the destination holds \(actual) bytes, not \(expected)"
        case .nonFiniteValue(let index): "value \(index) is not finite"
        case .scaleOverflow(let block): "block \(block)'s scale does not fit a 16-bit float"
        case .valueOverflow(let index): "value \(index) does not fit a 16-bit float"
        }
    }
}

extension ElementType {
    /// Writes `values` in this type at `destination`, block after block, exactly as ggml's reference
    /// quantizers (`quantize_row_*_ref`, which `llama_model_quantize` runs without an importance
    /// matrix) and `gguf.quants.quantize` do: the same Float32 operations in the same order, and
    /// Float16 stores rounded to nearest even.
    ///
    /// - Throws: ``QuantizeError`` for a partial block, a destination of the wrong size, a NaN or
    ///   infinite value, or a scale beyond Float16.
    package func quantize(_ values: UnsafeBufferPointer<Float>, into destination: UnsafeMutableRawBufferPointer)
        throws(QuantizeError)
    {
        guard values.count % blockSize == 0 else { throw .partialBlock(count: values.count, blockSize: blockSize) }
        let expected = values.count / blockSize * blockBytes
        guard destination.count == expected else { throw .destinationSize(expected: expected, actual: destination.count) }
        guard let source = values.baseAddress, let out = destination.baseAddress else { return }
        for i in 0..<values.count where !source[i].isFinite { throw .nonFiniteValue(index: i) }
        switch self {
        case .f32:
            out.copyMemory(from: source, byteCount: values.count &* 4)
        case .f16:
            for i in 0..<values.count where !storeF16(out, 2 &* i, source[i]) { throw .valueOverflow(index: i) }
        case .bf16:
            for i in 0..<values.count where !storeBF16(out, 2 &* i, source[i]) { throw .valueOverflow(index: i) }
        case .q4_0: try eachBlock(source, values.count, out, Q4_0Block.quantize)
        case .q4_1: try eachBlock(source, values.count, out, Q4_1Block.quantize)
        case .q5_0: try eachBlock(source, values.count, out, Q5_0Block.quantize)
        case .q5_1: try eachBlock(source, values.count, out, Q5_1Block.quantize)
        case .q8_0: try eachBlock(source, values.count, out, Q8_0Block.quantize)
        case .q2_K: try eachBlock(source, values.count, out, Q2_KBlock.quantize)
        case .q3_K: try eachBlock(source, values.count, out, Q3_KBlock.quantize)
        case .q4_K: try eachBlock(source, values.count, out, Q4_KBlock.quantize)
        case .q5_K: try eachBlock(source, values.count, out, Q5_KBlock.quantize)
        case .q6_K: try eachBlock(source, values.count, out, Q6_KBlock.quantize)
        }
    }

    /// Runs `encode` on each block of `blockSize` values; a block whose stored scale overflowed
    /// Float16 (its encoder returns false) is an error naming it.
    @inline(__always)
    private func eachBlock(
        _ source: UnsafePointer<Float>, _ count: Int, _ destination: UnsafeMutableRawPointer,
        _ encode: (UnsafePointer<Float>, UnsafeMutableRawPointer) -> Bool
    ) throws(QuantizeError) {
        for b in 0..<count / blockSize where !encode(source + b &* blockSize, destination + b &* blockBytes) {
            throw .scaleOverflow(block: b)
        }
    }
}

// MARK: Shared steps of the reference quantizers

/// Stores `value` as an IEEE half at `offset`, rounded to nearest even (ggml's `GGML_FP32_TO_FP16`
/// with F16C, numpy's `astype(float16)`); returns whether the half is finite.
@inline(__always) @discardableResult
func storeF16(_ base: UnsafeMutableRawPointer, _ offset: Int, _ value: Float) -> Bool {
    let half = Float16(value)
    base.storeBytes(of: half.bitPattern.littleEndian, toByteOffset: offset, as: UInt16.self)
    return half.isFinite
}

/// Stores `value` as bfloat16 at `offset`, rounded to nearest even, as ggml's
/// `GGML_FP32_TO_BF16` and gguf-py do for finite values; returns whether the result is finite.
@inline(__always) @discardableResult
func storeBF16(_ base: UnsafeMutableRawPointer, _ offset: Int, _ value: Float) -> Bool {
    let bits = value.bitPattern
    let rounded = UInt16(truncatingIfNeeded: (bits &+ (0x7FFF &+ ((bits >> 16) & 1))) >> 16)
    base.storeBytes(of: rounded.littleEndian, toByteOffset: offset, as: UInt16.self)
    return rounded & 0x7F80 != 0x7F80
}

/// C's `(int8_t)v` as x86 compiles it: truncation toward zero to 32 bits (`cvttss2si`, which gives
/// INT32_MIN for NaN and out-of-range values) and then the low byte. The reference quantizers clamp
/// what comes out; for finite inputs in range this is plain truncation.
@inline(__always)
func truncatedInt8(_ v: Float) -> Int {
    let wide: Int32 = v.isFinite && v > -2_147_483_648 && v < 2_147_483_648 ? Int32(v) : .min
    return Int(Int8(truncatingIfNeeded: wide))
}

/// The reciprocal the reference quantizers scale by: `1 / d`, or 0 for a zero scale.
@inline(__always)
func inverseScale(_ d: Float) -> Float {
    d != 0 ? 1 / d : 0
}

/// The value of largest magnitude in a block of `count`, the first one on ties (ggml's loop keeps
/// a later value only when it is strictly larger).
@inline(__always)
func signedAbsMax(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
    var amax: Float = 0, max: Float = 0
    for j in 0..<count where amax < abs(x[j]) {
        amax = abs(x[j])
        max = x[j]
    }
    return max
}

/// The least and greatest values of a block of `count`.
@inline(__always)
func minAndMax(_ x: UnsafePointer<Float>, _ count: Int) -> (min: Float, max: Float) {
    var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
    for j in 0..<count {
        if x[j] < lo { lo = x[j] }
        if x[j] > hi { hi = x[j] }
    }
    return (lo, hi)
}
