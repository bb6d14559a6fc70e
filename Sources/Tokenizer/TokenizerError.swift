/// Why tokenizer data could not be loaded, or ids could not be decoded.
public enum TokenizerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A required field is absent (`tokenizer.ggml.tokens`, `model.vocab`, ...).
    case missingField(String)
    /// A field has the wrong type or an unusable value.
    case invalidField(String, reason: String)
    /// `tokenizer.ggml.model` / `model.type` names a tokenizer this library does not implement.
    case unsupportedModel(String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer this library does not implement.
    case unsupportedPreTokenizer(String)
    /// Parallel arrays (tokens, scores, token types) of different lengths.
    case lengthMismatch(field: String, expected: Int, actual: Int)
    /// A merge rule that is not two tokens separated by one space, or names a token not in the vocabulary.
    case invalidMerge(index: Int, merge: String)
    /// A special-token id (bos, eos, ...) outside the vocabulary.
    case specialTokenOutOfRange(name: String, id: Int, vocabularySize: Int)
    /// The same token text twice where texts must be unique.
    case duplicateToken(id: Int, text: String)
    /// A token text that is not valid UTF-8 (or otherwise unusable).
    case invalidToken(id: Int, reason: String)
    /// An id given to decode that is outside the vocabulary.
    case idOutOfRange(id: Int, vocabularySize: Int)
    /// A file of a Hugging Face tokenizer directory could not be read or parsed.
    case unreadableFile(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missingField(f): return "tokenizer: missing \(f)"
        case let .invalidField(f, r): return "tokenizer: invalid \(f): \(r)"
        case let .unsupportedModel(m): return "tokenizer: unsupported tokenizer model '\(m)'"
        case let .unsupportedPreTokenizer(p): return "tokenizer: unsupported pre-tokenizer '\(p)'"
        case let .lengthMismatch(f, e, a): return "tokenizer: \(f) has \(a) entries, expected \(e) (one per token)"
        case let .invalidMerge(i, m): return "tokenizer: merge #\(i) \"\(m)\" is not two known tokens separated by a space"
        case let .specialTokenOutOfRange(n, id, size): return "tokenizer: \(n) id \(id) is outside the vocabulary (size \(size))"
        case let .duplicateToken(id, t): return "tokenizer: token \(id) \"\(t)\" duplicates an earlier token"
        case let .invalidToken(id, r): return "tokenizer: token \(id): \(r)"
        case let .idOutOfRange(id, size): return "tokenizer: id \(id) is outside the vocabulary (size \(size))"
        case let .unreadableFile(p, r): return "tokenizer: cannot read \(p): \(r)"
        }
    }
}
