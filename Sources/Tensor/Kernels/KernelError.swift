import ModelFormats

/// An error a kernel reports instead of reading or writing out of bounds.
///
/// Kernels check sizes once per call, in their checked entry points; the `unsafe…` entry points
/// beneath them check nothing and are what a thread pool calls per chunk of rows.
public enum KernelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An operand has the wrong number of values. `operand` names it as the API does ("x", "y").
    case lengthMismatch(operand: String, expected: Int, actual: Int)
    /// A buffer is smaller than the operation needs.
    case bufferTooSmall(operand: String, needed: Int, available: Int)
    /// A row range reaches outside the matrix.
    case rowRangeOutOfBounds(Range<Int>, rowCount: Int)
    /// A size argument is negative, overflows, or does not fit the BLAS integer type.
    case invalidDimension(name: String, value: Int)
    /// A BLAS leading dimension is smaller than the stored row it describes.
    case leadingDimensionTooSmall(name: String, value: Int, minimum: Int)
    /// A rotary embedding whose sizes or base make no sense.
    case invalidRotaryConfiguration(headDim: Int, ropeDims: Int, base: Float)
    /// A negative token position.
    case invalidPosition(Int)
    /// A kernel has no implementation for weights of this type (or the activation is in another
    /// format than the type needs).
    case unsupportedType(ElementType)
    /// A kernel variant was asked for an instruction set this CPU does not run.
    case unsupportedInstructionSet(String)

    public var description: String {
        switch self {
        case let .lengthMismatch(operand, expected, actual):
            return "\(operand) has \(actual) values, \(expected) expected"
        case let .bufferTooSmall(operand, needed, available):
            return "\(operand) holds \(available) values, \(needed) needed"
        case let .rowRangeOutOfBounds(range, rowCount):
            return "rows \(range) are outside 0..<\(rowCount)"
        case let .invalidDimension(name, value):
            return "\(name) = \(value) is not a valid size"
        case let .leadingDimensionTooSmall(name, value, minimum):
            return "\(name) = \(value) is smaller than the row it strides over (\(minimum))"
        case let .invalidRotaryConfiguration(headDim, ropeDims, base):
            return "rotary embedding with head dimension \(headDim), \(ropeDims) rotated dimensions "
                + "and base \(base) is invalid (rotated dimensions must be even, in 2...headDim; "
                + "base finite and > 0)"
        case let .unsupportedInstructionSet(name):
            return "this CPU does not run the \(name) kernels"
        case let .invalidPosition(p):
            return "position \(p) is negative"
        case let .unsupportedType(type):
            return "no kernel for \(type) weights with this activation format"
        }
    }
}
