/// A tensor's dimensions in row-major order: the last dimension varies fastest and is the row length.
///
/// This is numpy's and safetensors' order. GGUF stores dimensions the other way round (its `ne[0]` is
/// the row length); the GGUF reader reverses them, so a 576 × 49152 GGUF embedding (ne = [576, 49152])
/// has `Shape([49152, 576])`: 49152 rows of 576 values.
public struct Shape: Hashable, Sendable, CustomStringConvertible {
    public let dims: [Int]

    public init(_ dims: [Int]) { self.dims = dims }

    public var rank: Int { dims.count }

    /// The length of one row (the last dimension), 1 for a scalar.
    public var rowLength: Int { dims.last ?? 1 }

    /// The number of rows: the product of every dimension but the last.
    public var rowCount: Int { dims.dropLast().reduce(1, *) }

    /// The number of elements.
    public var elementCount: Int { dims.reduce(1, *) }

    /// The element count, or `nil` when a dimension is negative or the product overflows `Int`.
    /// Readers call this on untrusted shapes before anything else.
    public static func checkedElementCount(_ dims: [Int]) -> Int? {
        var total = 1
        for d in dims {
            guard d >= 0 else { return nil }
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            total = p
        }
        return total
    }

    public var description: String { "[" + dims.map(String.init).joined(separator: ", ") + "]" }
}
