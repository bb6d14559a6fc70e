/// The tokens allowed in one recognizer state, stored in whichever form is smallest: the allowed
/// ids (structure positions of JSON allow a handful of tokens), the rejected ids (string bodies
/// allow almost all), or one bit per token.
struct TokenMask: Sendable {
    enum Form: Sendable, Equatable {
        /// Sorted ids of the allowed tokens.
        case allowed([UInt32])
        /// Sorted ids, below the vocabulary's size, of the tokens not allowed.
        case rejected([UInt32])
        /// Bit `id & 63` of word `id >> 6` is set when token `id` is allowed.
        case bits([UInt64])
    }

    /// Which form to keep (``smallest`` outside tests).
    enum Choice: Sendable, CaseIterable {
        case smallest, allowed, rejected, bits
    }

    let form: Form
    let allowedCount: Int
    /// The vocabulary's size.
    let size: Int

    /// The mask of the bits `words` (of which `allowedCount` are set, all below `size`), in the
    /// form `choice` says.
    init(words: [UInt64], allowedCount: Int, size: Int, choice: Choice = .smallest) {
        self.allowedCount = allowedCount
        self.size = size
        var pick = choice
        if choice == .smallest {
            let listed = min(allowedCount, size - allowedCount) * 4
            pick = listed >= words.count * 8 ? .bits : allowedCount <= size - allowedCount ? .allowed : .rejected
        }
        switch pick {
        case .allowed:
            var ids: [UInt32] = []
            ids.reserveCapacity(allowedCount)
            for (w, word) in words.enumerated() {
                var bits = word
                while bits != 0 {
                    ids.append(UInt32(w * 64 + bits.trailingZeroBitCount))
                    bits &= bits - 1
                }
            }
            form = .allowed(ids)
        case .rejected:
            var ids: [UInt32] = []
            ids.reserveCapacity(size - allowedCount)
            for (w, word) in words.enumerated() {
                var bits = ~word
                while bits != 0 {
                    let id = w * 64 + bits.trailingZeroBitCount
                    if id >= size { break }
                    ids.append(UInt32(id))
                    bits &= bits - 1
                }
            }
            form = .rejected(ids)
        case .bits, .smallest:
            form = .bits(words)
        }
    }

    /// Estimated heap bytes: the stored ids or words, and the array and dictionary slot around them.
    var bytes: Int {
        let payload: Int
        switch form {
        case let .allowed(ids), let .rejected(ids): payload = ids.count * 4
        case let .bits(words): payload = words.count * 8
        }
        return payload + 64
    }

    /// The allowed ids, in increasing order.
    func allowedTokens() -> [Int] {
        switch form {
        case let .allowed(ids):
            return ids.map { Int($0) }
        case let .rejected(ids):
            var out: [Int] = []
            out.reserveCapacity(allowedCount)
            var next = 0
            for id in ids {
                while next < Int(id) {
                    out.append(next)
                    next += 1
                }
                next = Int(id) + 1
            }
            while next < size {
                out.append(next)
                next += 1
            }
            return out
        case let .bits(words):
            var out: [Int] = []
            out.reserveCapacity(allowedCount)
            for (w, word) in words.enumerated() {
                var bits = word
                while bits != 0 {
                    out.append(w * 64 + bits.trailingZeroBitCount)
                    bits &= bits - 1
                }
            }
            return out
        }
    }

    /// Sets every logit not allowed to -inf (entries past the vocabulary's size too).
    func apply(to logits: inout [Float]) {
        let size = size
        logits.withUnsafeMutableBufferPointer { l in
            let end = min(size, l.count)
            switch form {
            case let .allowed(ids):
                // Fill the gaps between allowed ids: one pass, no copy of the kept values.
                var next = 0
                for id in ids {
                    let i = Int(id)
                    guard i < end else { break }
                    while next < i {
                        l[next] = -.infinity
                        next += 1
                    }
                    next = i + 1
                }
                while next < end {
                    l[next] = -.infinity
                    next += 1
                }
            case let .rejected(ids):
                for id in ids where Int(id) < end { l[Int(id)] = -.infinity }
            case let .bits(words):
                for w in 0 ..< words.count {
                    var rejected = ~words[w]
                    let base = w * 64
                    while rejected != 0 {
                        let i = base + rejected.trailingZeroBitCount
                        if i >= end { break }
                        l[i] = -.infinity
                        rejected &= rejected - 1
                    }
                }
            }
            for i in end ..< l.count { l[i] = -.infinity }
        }
    }
}
