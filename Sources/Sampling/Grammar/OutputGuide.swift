/// A request's constraint while it generates: the recognizer and masker its sequences share, and
/// the errors they raise named after the request field.
final class OutputGuide {
    private let masker: TokenMasker
    private let field: String

    init(_ constraint: TokenConstraint, endTokenIDs: Set<Int>, ignoresEOS: Bool) throws(SamplingError) {
        field = constraint.field
        let recognizer: GrammarRecognizer
        do { recognizer = try GrammarRecognizer(grammar: constraint.grammar, limits: constraint.limits) } catch {
            throw .invalidParameter(field: constraint.field, reason: error.description)
        }
        // Under ignore_eos an end token does not end the output, so it could only break it.
        masker = TokenMasker(recognizer: recognizer, vocabulary: constraint.vocabulary,
                             endTokens: ignoresEOS ? [] : Array(endTokenIDs))
    }

    var initial: GrammarState { masker.recognizer.initial }

    /// Masks `logits` for a sequence in `state`; false when no token is allowed.
    func mask(_ logits: inout [Float], state: GrammarState) throws(SamplingError) -> Bool {
        do { return try masker.apply(state, to: &logits) } catch {
            throw .invalidParameter(field: field, reason: error.description)
        }
    }

    func advance(_ state: GrammarState, token: Int) -> GrammarState { masker.advance(state, token: token) }

    func isComplete(_ state: GrammarState) -> Bool { masker.recognizer.isComplete(state) }
}
