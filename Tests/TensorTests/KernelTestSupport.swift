import Foundation
import ModelFormats
import Testing
import Tensor
import SparrowTestSupport

/// Reads the kernel fixtures written by `Fixtures/kernels/make_kernel_fixtures.py`.
enum KernelFixtures {
    struct TypeResult: Decodable {
        let y: [Double]
        let absdot: [Double]
    }

    struct MatVecSet: Decodable {
        let rows: Int
        let cols: Int
        let x: [Float]
        let types: [String: TypeResult]
    }

    struct MatVecFile: Decodable {
        let matvec: MatVecSet
        let wide: MatVecSet
    }

    struct MatMulResult: Decodable {
        let Y: [Double]
        let absdot: [Double]
    }

    struct MatMulFile: Decodable {
        let tokens: Int
        let rows: Int
        let cols: Int
        let x: [Float]
        let types: [String: MatMulResult]
    }

    static func load<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: FixturePaths.url("kernels/" + name)))
    }

    /// The committed matrix `<prefix>_<TYPE>.bin` as a tensor of `rows` × `cols`.
    static func matrix(_ prefix: String, _ type: ElementType, rows: Int, cols: Int) throws -> Tensor {
        let data = try Data(contentsOf: FixturePaths.url("kernels/\(prefix)_\(type.name).bin"))
        return try data.withUnsafeBytes { try Tensor(type: type, shape: Shape([rows, cols]), copying: $0) }
    }
}

/// Expects |actual[i] − expected[i]| ≤ tolerance × scale[i] for every i (first failures only).
func expectClose(
    _ actual: [Float], _ expected: [Double], scale: [Double], tolerance: Double, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "\(what): length", sourceLocation: sourceLocation)
    var failures = 0
    for i in 0..<min(actual.count, expected.count) {
        let err = abs(Double(actual[i]) - expected[i])
        // Written so NaN fails.
        if !(err <= tolerance * scale[i]) {
            failures += 1
            if failures <= 5 {
                Issue.record("\(what)[\(i)]: \(actual[i]) vs \(expected[i]) (error \(err), allowed \(tolerance * scale[i]))",
                             sourceLocation: sourceLocation)
            }
        }
    }
}

/// Relative closeness per element: the scale is |expected| (with a floor so zeros compare
/// absolutely).
func expectRelativelyClose(
    _ actual: [Float], _ expected: [Double], tolerance: Double, floor: Double = 1e-30, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    expectClose(actual, expected, scale: expected.map { max(abs($0), floor) }, tolerance: tolerance, what,
                sourceLocation: sourceLocation)
}

/// A seeded generator (SplitMix64) so failures reproduce.
struct KernelRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func floats(_ n: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<n).map { _ in Float.random(in: range, using: &self) }
    }
}
