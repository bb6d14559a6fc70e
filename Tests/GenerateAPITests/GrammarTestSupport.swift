import Foundation
@testable import Sampling

/// Random strings of a grammar's language: a walk that picks an alternative at random for each
/// rule and a code point at random from each class, steering to the shortest alternatives once a
/// string grows long, so that every walk ends.
struct GrammarWalker {
    let grammar: CompiledGrammar
    private let minimumLength: [Int]

    init(_ grammar: CompiledGrammar) {
        self.grammar = grammar
        // The shortest string each rule can produce (a fixpoint; unbounded rules stay large).
        var lengths = [Int](repeating: Int.max / 4, count: grammar.alternatives.count)
        var changed = true
        while changed {
            changed = false
            for (r, starts) in grammar.alternatives.enumerated() {
                for start in starts {
                    var total = 0, i = Int(start)
                    while grammar.symbols[i] != CompiledGrammar.endSymbol {
                        let s = grammar.symbols[i]
                        total += s >= 0 ? 1 : lengths[Int(-s - 1)]
                        i += 1
                    }
                    if total < lengths[r] {
                        lengths[r] = total
                        changed = true
                    }
                }
            }
        }
        minimumLength = lengths
    }

    private func alternativeLength(_ start: Int32) -> Int {
        var total = 0, i = Int(start)
        while grammar.symbols[i] != CompiledGrammar.endSymbol {
            let s = grammar.symbols[i]
            total += s >= 0 ? 1 : minimumLength[Int(-s - 1)]
            i += 1
        }
        return total
    }

    /// A random string; `budget` code points before the walk takes the shortest ways out.
    func randomString(_ rng: inout Xoshiro256StarStar, budget: Int = 60) -> String {
        var out = String.UnicodeScalarView()
        // Positions still to match, innermost last.
        var stack: [Int] = []
        func push(rule: Int) {
            let starts = grammar.alternatives[rule]
            let pick: Int32
            if out.count > budget {
                pick = starts.min { alternativeLength($0) < alternativeLength($1) } ?? starts[0]
            } else {
                pick = starts[Int(rng.next() % UInt64(starts.count))]
            }
            stack.append(Int(pick))
        }
        push(rule: Int(grammar.root))
        while let position = stack.popLast() {
            let s = grammar.symbols[position]
            if s == CompiledGrammar.endSymbol { continue }
            stack.append(position + 1)
            if s < 0 {
                push(rule: Int(-s - 1))
            } else {
                out.append(Self.randomScalar(grammar.classes[Int(s)], &rng))
            }
        }
        return String(out)
    }

    /// A code point of `c`: printable ASCII when the class has some and a coin says so, else any
    /// (non-surrogate) code point of a random range, so multi-byte characters come up often.
    static func randomScalar(_ c: CharacterClass, _ rng: inout Xoshiro256StarStar) -> Unicode.Scalar {
        let printable = c.ranges.flatMap { r -> [UInt32] in
            let lo = max(r.lowerBound, 0x20), hi = min(r.upperBound, 0x7E)
            return lo <= hi ? Array(lo ... hi) : []
        }
        if !printable.isEmpty, rng.next() % 3 != 0 {
            return Unicode.Scalar(printable[Int(rng.next() % UInt64(printable.count))]) ?? " "
        }
        for _ in 0 ..< 16 {
            let r = c.ranges[Int(rng.next() % UInt64(c.ranges.count))]
            let span = UInt64(r.upperBound - r.lowerBound) + 1
            if let u = Unicode.Scalar(r.lowerBound + UInt32(rng.next() % span)) { return u }
        }
        return Unicode.Scalar(c.ranges[0].lowerBound) ?? " "
    }
}
