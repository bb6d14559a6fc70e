import CKernels

/// The instruction sets the C kernels (`Sources/CKernels`) are compiled for, all in one binary; the
/// kernels run the best one the CPU supports, chosen at run time.
///
/// Every variant computes the same bits (integer products are exact and the Float additions follow
/// one order), so the choice changes speed only. `SPARROW_ISA=avx2` (or `portable`, `avxvnni`)
/// lowers the choice for a process, to compare paths.
package enum InstructionSet: Int32, CaseIterable, Sendable, CustomStringConvertible {
    /// Plain C: any CPU.
    case portable = 0
    /// x86-64 AVX2, FMA and F16C.
    case avx2 = 1
    /// AVX2 plus AVX-VNNI.
    case avxVNNI = 2
    /// AVX-512 F, BW, VL and VNNI.
    case avx512VNNI = 3

    /// The set the kernels use: the best this machine runs, unless `SPARROW_ISA` lowers it.
    package static let best = InstructionSet(rawValue: sparrow_isa_best()) ?? .portable

    /// Whether this CPU and operating system can run it.
    package var isSupported: Bool { sparrow_isa_supported(rawValue) != 0 }

    /// Every set this machine runs, for tests that compare them.
    package static var supported: [InstructionSet] { allCases.filter(\.isSupported) }

    package var description: String {
        switch self {
        case .portable: return "portable"
        case .avx2: return "avx2"
        case .avxVNNI: return "avxvnni"
        case .avx512VNNI: return "avx512vnni"
        }
    }
}
