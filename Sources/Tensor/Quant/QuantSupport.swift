// Small readers shared by the block decoders. Blocks sit back to back at odd sizes (18, 22, 110
// bytes...), so nothing inside them is aligned: every multi-byte field is read with
// `loadUnaligned`, and stored values are little-endian.

/// Reads the byte at `offset`.
@inline(__always)
func loadByte(_ base: UnsafeRawPointer, _ offset: Int) -> UInt8 {
    base.loadUnaligned(fromByteOffset: offset, as: UInt8.self)
}

/// Reads the IEEE half at `offset` and widens it to Float.
@inline(__always)
func loadF16(_ base: UnsafeRawPointer, _ offset: Int) -> Float {
    widenF16(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}

/// Widens an IEEE half to Float exactly, NaNs included.
///
/// `Float(Float16)` is exact for every number and infinity but sets the quiet bit of a signalling
/// NaN, while numpy's `float16 → float32` cast (the reference) moves the bits over unchanged: sign,
/// all-ones exponent, mantissa shifted up by 13. NaNs are therefore rebuilt from their bits.
@inline(__always)
func widenF16(_ bits: UInt16) -> Float {
    let widened = Float(Float16(bitPattern: bits))
    let nan = (UInt32(bits & 0x8000) &<< 16) | 0x7F80_0000 | (UInt32(bits & 0x03FF) &<< 13)
    return bits & 0x7FFF > 0x7C00 ? Float(bitPattern: nan) : widened
}

/// Reads the little-endian `UInt32` at `offset`.
@inline(__always)
func loadU32(_ base: UnsafeRawPointer, _ offset: Int) -> UInt32 {
    UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
}

/// Unpacks the 6-bit scale and 6-bit min of sub-block `j` (0..<8) from the 12 packed bytes at
/// `scales`, as Q4_K and Q5_K store them (ggml's `get_scale_min_k4`; the packing is described on
/// `Q4_KBlock`).
@inline(__always)
func kQuantScaleMin(_ scales: UnsafeRawPointer, _ j: Int) -> (scale: UInt8, min: UInt8) {
    if j < 4 {
        return (loadByte(scales, j) & 0x3F, loadByte(scales, j + 4) & 0x3F)
    }
    let packed = loadByte(scales, j + 4)
    let scale = (packed & 0x0F) | ((loadByte(scales, j - 4) >> 6) << 4)
    let min = (packed >> 4) | ((loadByte(scales, j) >> 6) << 4)
    return (scale, min)
}

/// `product + min`, keeping `product`'s NaN payload when both are NaN.
///
/// x86 returns the first operand's NaN when both operands of an add are NaN, so numpy's
/// `(d * q) + m` keeps the product's payload. LLVM treats `+` as commutative and, once it
/// vectorizes for AVX2, may emit the operands the other way round, which would keep `min`'s payload
/// instead. Naming the case pins the reference result on every target.
@inline(__always)
func addMin(_ product: Float, _ min: Float) -> Float {
    product.isNaN ? product : product + min
}
