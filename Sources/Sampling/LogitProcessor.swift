/// The tokens a sequence has seen: what the penalties look at.
public struct TokenHistory: Sendable {
    /// The prompt's ids: only the repetition penalty counts them.
    public var prompt: [Int]
    /// The ids generated so far: every penalty counts them.
    public var output: [Int]

    /// The history of a sequence: its `prompt` ids and its generated `output` ids.
    public init(prompt: [Int], output: [Int]) {
        self.prompt = prompt
        self.output = output
    }
}

/// One step of the logit pipeline that rewrites the full logit vector in place: the penalties and
/// the temperature. The filters that follow work on a ``CandidateSet`` instead, so that a small
/// top-k never touches the whole vocabulary again.
///
/// Conformers are values with their own scratch space (hence `mutating`), so a step allocates
/// nothing; ids outside the vocabulary are ignored rather than trusted.
public protocol LogitProcessor {
    /// Rewrites `logits` for the sequence whose ids are `history`.
    mutating func process(_ logits: inout [Float], history: TokenHistory)
}

/// A per-token flag array reused across steps: set while visiting ids, then cleared by visiting
/// the same ids again, so each step costs the history's length rather than the vocabulary's.
struct TokenMarks {
    private var marks: [UInt8] = []

    /// Calls `body` once per distinct id of `first` and `second` inside `0 ..< size`, in
    /// first-seen order. Two fixed lists rather than a variadic one: a variadic call allocates.
    mutating func forEachDistinct(_ first: [Int], _ second: [Int], size: Int, _ body: (Int) -> Void) {
        if marks.count < size { marks = [UInt8](repeating: 0, count: size) }
        marks.withUnsafeMutableBufferPointer { m in
            for id in first where id >= 0 && id < size && m[id] == 0 {
                m[id] = 1
                body(id)
            }
            for id in second where id >= 0 && id < size && m[id] == 0 {
                m[id] = 1
                body(id)
            }
            for id in first where id >= 0 && id < size { m[id] = 0 }
            for id in second where id >= 0 && id < size { m[id] = 0 }
        }
    }
}
