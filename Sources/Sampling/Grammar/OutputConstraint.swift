/// What a request constrains its output to: one of the forms vLLM, llama.cpp and OpenAI accept.
public enum OutputConstraint: Sendable, Equatable {
    /// Valid JSON under a JSON schema (vLLM's `guided_json`, llama.cpp's `json_schema`, OpenAI's
    /// `response_format` `json_schema`).
    case jsonSchema(JSONNode)
    /// Any JSON object (OpenAI's `response_format` `{"type": "json_object"}`).
    case jsonObject
    /// The whole output matches a regular expression (vLLM's `guided_regex`).
    case regex(String)
    /// The output is exactly one of the strings (vLLM's `guided_choice`).
    case choice([String])
    /// The output matches a GBNF grammar from its `root` rule (vLLM's `guided_grammar`,
    /// llama.cpp's `grammar`).
    case grammar(String)

    /// The constraint compiled, within `limits`.
    /// - Throws: ``GrammarError`` saying what is wrong or too large.
    public func compile(limits: GrammarLimits = .init()) throws(GrammarError) -> CompiledGrammar {
        switch self {
        case let .jsonSchema(schema): return try JSONSchemaGrammar.compile(schema, limits: limits)
        case .jsonObject: return try JSONSchemaGrammar.anyObject(limits: limits)
        case let .regex(pattern): return try RegexGrammar.compile(pattern, limits: limits)
        case let .choice(choices): return try ChoiceGrammar.compile(choices, limits: limits)
        case let .grammar(source): return try CompiledGrammar(gbnf: source, limits: limits)
        }
    }
}

/// A compiled constraint as generation takes it: the grammar, the model's vocabulary as bytes, and
/// the request field it came from (errors while generating name it).
public struct TokenConstraint: Sendable {
    /// The grammar every sequence's output must match.
    public var grammar: CompiledGrammar
    /// The model's tokens as bytes, with their prefix tree.
    public var vocabulary: TokenVocabulary
    /// The JSON key of the request field that asked for it (`guided_json`, `response_format`, ...).
    public var field: String
    /// The limits the recognizer runs under (``GrammarLimits/maxStacks``).
    public var limits: GrammarLimits
    /// Where the masker comes from and whose byte budget it keeps: the engine's cache, shared
    /// with every request of the same grammar; `nil`, a masker of the request's own.
    public var cache: GrammarCache?

    /// A constraint of `grammar` over `vocabulary`, from request field `field`, its masker taken
    /// from `cache` when given.
    public init(grammar: CompiledGrammar, vocabulary: TokenVocabulary, field: String, limits: GrammarLimits = .init(),
                cache: GrammarCache? = nil) {
        self.grammar = grammar
        self.vocabulary = vocabulary
        self.field = field
        self.limits = limits
        self.cache = cache
    }
}
