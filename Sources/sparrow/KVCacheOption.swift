import ArgumentParser

/// `--kv-cache-mib` of `serve` and `generate`: the KV cache memory a model and all its sequences
/// share (`ModelOptions.kvCacheBytes`), in MiB.
enum KVCacheOption {
    /// The largest value accepted, 1 TiB: far beyond the machines Sparrow runs on, and small enough
    /// that the byte count cannot overflow.
    static let maxMiB = 1 << 20

    /// `mib` in bytes, or `nil` (the model's default) without the flag.
    /// - Throws: `ValidationError` naming the flag when `mib` is outside 1...``maxMiB``.
    static func bytes(mib: Int?) throws -> Int? {
        guard let mib else { return nil }
        guard (1...maxMiB).contains(mib) else {
            throw ValidationError("--kv-cache-mib must be in 1...\(maxMiB), not \(mib)")
        }
        return mib << 20
    }
}
