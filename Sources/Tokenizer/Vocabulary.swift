/// The kind of a vocabulary entry, with GGUF's `tokenizer.ggml.token_type` numbering.
public enum TokenType: Int32, Sendable, Hashable {
    case undefined = 0
    case normal = 1
    case unknown = 2
    /// Control tokens (`<s>`, `<|im_start|>`, `<|eot_id|>`): matched by special-token parsing,
    /// rendered as nothing when decoding ordinary text.
    case control = 3
    /// User-defined tokens: always matched as whole pieces, decoded as their text.
    case userDefined = 4
    case unused = 5
    /// `<0xNN>` byte-fallback tokens of SentencePiece vocabularies.
    case byte = 6
}

/// Which text fragments a SentencePiece vocabulary's dummy prefix ("▁") goes in front of. A
/// fragment is a run of text between tokens matched whole (special and added tokens).
public enum SpacePrefixPlacement: Sendable, Hashable {
    /// Every fragment: llama.cpp's rule (`is_prev_special`), and Hugging Face's `Prepend` normalizer,
    /// which normalizes each fragment on its own.
    case startAndAfterTokens
    /// Every fragment that does not already start with a space: Hugging Face's `Metaspace`
    /// pre-tokenizer with `prepend_scheme: "always"`.
    case everyFragmentUnlessSpace
    /// Only a fragment at the very start of the text, and only when it does not start with a space:
    /// `Metaspace` with `prepend_scheme: "first"`.
    case textStartUnlessSpace
}

/// The tokenizer algorithm a vocabulary is used with.
public enum TokenizerKind: String, Sendable, Hashable {
    /// SentencePiece BPE with byte fallback (GGUF `tokenizer.ggml.model = "llama"`).
    case sentencePiece = "llama"
    /// Byte-level BPE (GGUF `tokenizer.ggml.model = "gpt2"`).
    case byteLevelBPE = "gpt2"
}

/// Everything a tokenizer needs, independent of the file it came from (GGUF metadata or a Hugging
/// Face `tokenizer.json`). Build one with `Vocabulary(metadata:)` or the Hugging Face loader, then
/// `Tokenizer(vocabulary:)`, which validates it.
public struct Vocabulary: Sendable {
    public var kind: TokenizerKind
    /// The pre-tokenizer name (`tokenizer.ggml.pre`), for byte-level BPE; "default" when absent.
    public var preTokenizer: String
    /// Token texts; the index is the id.
    public var tokens: [String]
    /// SentencePiece merge scores, one per token (higher merges first). Empty for byte-level BPE.
    public var scores: [Float]
    /// One type per token; all `.normal` when the source gives none.
    public var tokenTypes: [TokenType]
    /// Byte-level BPE merges, "left right", in priority order (index = rank). Empty for SentencePiece.
    public var merges: [String] {
        get { mergeLines.strings }
        set { mergeLines = .strings(newValue) }
    }
    /// The merges as stored: GGUF metadata hands them over as bytes, which the BPE loader reads
    /// without ever building the `String`s.
    var mergeLines: MergeLines
    public var bosID: Int?
    public var eosID: Int?
    public var unknownID: Int?
    public var paddingID: Int?
    /// Extra end-of-generation ids (`<|eot_id|>`, `<|end|>`, ...), where the source names them.
    public var endOfTurnIDs: [Int]
    public var addBOS: Bool
    public var addEOS: Bool
    /// SentencePiece's dummy prefix: a space before the text (`tokenizer.ggml.add_space_prefix`).
    public var addSpacePrefix: Bool
    /// Where the dummy prefix goes when `addSpacePrefix` is set.
    public var spacePrefixPlacement: SpacePrefixPlacement = .startAndAfterTokens
    /// Tokens that swallow the whitespace after them when matched whole (Hugging Face's `rstrip`);
    /// llama.cpp's Phi-3 rule adds its own when the vocabulary is checked.
    public var rightStrippingIDs: Set<Int> = []
    /// Tokens that swallow the whitespace before them when matched whole (Hugging Face's `lstrip`).
    public var leftStrippingIDs: Set<Int> = []

    public init(
        kind: TokenizerKind, preTokenizer: String = "default", tokens: [String], scores: [Float] = [],
        tokenTypes: [TokenType] = [], merges: [String] = [], bosID: Int? = nil, eosID: Int? = nil,
        unknownID: Int? = nil, paddingID: Int? = nil, endOfTurnIDs: [Int] = [], addBOS: Bool = false,
        addEOS: Bool = false, addSpacePrefix: Bool = false
    ) {
        self.kind = kind
        self.preTokenizer = preTokenizer
        self.tokens = tokens
        self.scores = scores
        self.tokenTypes = tokenTypes.isEmpty ? Array(repeating: .normal, count: tokens.count) : tokenTypes
        mergeLines = .strings(merges)
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = unknownID
        self.paddingID = paddingID
        self.endOfTurnIDs = endOfTurnIDs
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
    }
}
