/// A request's constraint while it generates: the masker its sequences share (with other requests
/// of the same grammar when it comes from a ``GrammarCache``), and the errors they raise named
/// after the request field.
final class OutputGuide {
    private let masker: TokenMasker
    /// Keeps a cached masker in its cache while the request runs.
    private let lease: GrammarLease?
    private let field: String

    init(_ constraint: TokenConstraint, endTokenIDs: Set<Int>, ignoresEOS: Bool) throws(SamplingError) {
        field = constraint.field
        // Under ignore_eos an end token does not end the output, so it could only break it.
        let ends = ignoresEOS ? [] : Array(endTokenIDs)
        do {
            if let cache = constraint.cache {
                let lease = try cache.lease(grammar: constraint.grammar, vocabulary: constraint.vocabulary,
                                            endTokens: ends, limits: constraint.limits)
                self.lease = lease
                masker = lease.masker
            } else {
                lease = nil
                masker = try TokenMasker(grammar: constraint.grammar, vocabulary: constraint.vocabulary,
                                         endTokens: ends, limits: constraint.limits)
            }
        } catch {
            throw .invalidParameter(field: constraint.field, reason: error.description)
        }
    }

    var initial: GrammarState { masker.initial }

    /// Masks `logits` for a sequence in `state`; false when no token is allowed.
    func mask(_ logits: inout [Float], state: GrammarState) throws(SamplingError) -> Bool {
        do { return try masker.apply(state, to: &logits) } catch {
            throw .invalidParameter(field: field, reason: error.description)
        }
    }

    func advance(_ state: GrammarState, token: Int) -> GrammarState { masker.advance(state, token: token) }

    func isComplete(_ state: GrammarState) -> Bool { masker.isComplete(state) }
}
