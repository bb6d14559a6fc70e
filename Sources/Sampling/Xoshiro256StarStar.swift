/// The request's random source: xoshiro256** (Blackman and Vigna, 2018) seeded through SplitMix64.
///
/// Its own generator rather than the system's, so that a seed means the same tokens on every
/// machine and every Swift version: the algorithm, the seeding and the float conversion are all
/// fixed here. `best_of` candidates use streams 2^128 draws apart (``jump()``), so each
/// candidate's draws do not depend on how many others run or when they finish.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable, Equatable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// Expands `seed` into the 256-bit state with SplitMix64, the seeding the authors recommend:
    /// it never yields the all-zero state and decorrelates nearby seeds.
    public init(seed: UInt64) {
        var mixer = SplitMix64(state: seed)
        s0 = mixer.next()
        s1 = mixer.next()
        s2 = mixer.next()
        s3 = mixer.next()
    }

    /// A generator with a seed drawn from the system's random source (a request without `seed`).
    public init() {
        var system = SystemRandomNumberGenerator()
        self.init(seed: system.next())
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotate(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotate(s3, 45)
        return result
    }

    /// A uniform double in [0, 1) from the top 53 bits: every value is a multiple of 2^-53, and
    /// the low bits, the generator's weakest, are not used.
    public mutating func nextUnitInterval() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// Advances the state by 2^128 calls to ``next()`` (the authors' jump polynomial): streams a
    /// jump apart never overlap in practice, which is what independent candidates need.
    public mutating func jump() {
        var t0: UInt64 = 0, t1: UInt64 = 0, t2: UInt64 = 0, t3: UInt64 = 0
        for word in Self.jumpPolynomial {
            for bit in 0 ..< 64 {
                if word & (1 << UInt64(bit)) != 0 {
                    t0 ^= s0
                    t1 ^= s1
                    t2 ^= s2
                    t3 ^= s3
                }
                _ = next()
            }
        }
        (s0, s1, s2, s3) = (t0, t1, t2, t3)
    }

    /// The generator of candidate `stream`: this one jumped `stream` times.
    public func stream(_ stream: Int) -> Xoshiro256StarStar {
        var g = self
        for _ in 0 ..< max(0, stream) { g.jump() }
        return g
    }

    private static let jumpPolynomial: [UInt64] = [
        0x180E_C6D3_3CFD_0ABA, 0xD5A6_1266_F0C9_392C, 0xA958_2618_E03F_C9AA, 0x39AB_DC45_29B1_661C,
    ]

    @inline(__always)
    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// SplitMix64 (Steele, Lea and Flood, 2014): turns one 64-bit seed into well-mixed state words.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The counter; each call adds the golden-ratio increment.
    public var state: UInt64

    /// A generator starting from `state`.
    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
