import Sampling

/// The body of `POST /v1/generate`: the documented request (`shared/seed/generate-api-doc.txt`)
/// with vLLM 0.4.x's meaning for every field.
///
/// The request is what to answer (``model``, the prompt as ``prompt``, ``messages`` or
/// ``promptTokenIDs``, ``mockResponse``, ``stream``) and how to sample: ``sampling``, the one copy
/// of the sampling fields (`max_tokens` … `ignore_eos`), whose members also read and write as the
/// request's own — `request.maxTokens` is `request.sampling.maxTokens`.
///
/// ```swift
/// var request = GenerateRequest(prompt: "Once upon a time", temperature: 0.7)
/// request.maxTokens = 64           // request.sampling.maxTokens
/// request.stop = ["\n"]
/// ```
///
/// Decoding accepts the document's sample body as it is, including its `formatted_prompt` spelling
/// of `prompt` and numbers written as integers (`"temperature": 1`). Missing fields take vLLM's
/// defaults; keys this type does not know are ignored, as vLLM ignores them. A field of the wrong
/// JSON type fails to decode with ``GenerateError/invalidField(field:reason:)`` naming it. Values
/// are not checked here: a request is validated once, where it enters the engine (or by
/// ``validate(limits:)``).
///
/// Where the document is wrong, this type follows vLLM:
/// - `min_p` is a probability in [0, 1] (a token survives when `p >= min_p * p_max`), not a count.
/// - `n` is the number of returned outputs; with beam search the beam width is `best_of`.
/// - `max_tokens` defaults to 16 as in vLLM (the document's sample sends 256); `null` means no
///   limit, as vLLM's `max_tokens=None`: the output runs until the context is full.
@dynamicMemberLookup
public struct GenerateRequest: Codable, Sendable, Equatable {
    /// A `.gguf` file, a Hugging Face directory, or a model name resolved by the engine's
    /// ``ModelRegistry``. `nil`: the engine's default model.
    public var model: String?
    /// Prompt text, used as it is (special tokens such as `<|im_start|>` are parsed). JSON `prompt`
    /// or `formatted_prompt`.
    public var prompt: String?
    /// A conversation to put through the model's own chat template.
    public var messages: [ChatMessage]?
    /// The prompt as token ids of the model's vocabulary, used as they are (no BOS is added). JSON
    /// `prompt_token_ids`; OpenAI's completions take them as `prompt: [1, 2, 3]`.
    public var promptTokenIDs: [Int]?
    /// The sampling fields, with vLLM 0.4's JSON names and defaults. `max_tokens` omitted from the
    /// JSON is 16; `null` is `nil`: up to the context, which vLLM's engine reads as "until
    /// prompt + output exceed the context length", one token past a full cache. `seed` takes any
    /// integer vLLM 0.4 takes (torch's `manual_seed` range, -2⁶³ ... 2⁶⁴ − 1); a negative one is
    /// its two's-complement bit pattern, so `-1` is the seed 2⁶⁴ − 1. `stop` is a string or an
    /// array of strings; `early_stopping` `true`, `false` or `"never"`.
    public var sampling: SamplingParameters
    /// Answer with a canned response without loading a model (not a vLLM field).
    public var mockResponse: Bool
    /// Ask for a stream of text deltas (used by the server; the library's ``Engine/stream(request:)``
    /// streams whatever this says).
    public var stream: Bool
    /// What every output must match: a JSON schema, any JSON object, a regular expression, a list
    /// of choices or a GBNF grammar (`nil`: free text). In JSON one of `guided_json`,
    /// `guided_choice`, `guided_regex`, `guided_grammar` (vLLM), `grammar`, `json_schema`
    /// (llama.cpp) or `response_format` (OpenAI); see ``RequestConstraintField``. Not with beam
    /// search.
    public var constraint: OutputConstraint? {
        didSet { constraintField = nil }
    }
    /// The JSON key the constraint came from, for error messages (`nil`: named after its kind).
    package var constraintField: String?
    /// Functions the answer may call (JSON `tools`, OpenAI's function tools). Unless
    /// ``toolChoice`` is ``ToolChoice/none``, the output is constrained to ``ToolCallFormat``'s
    /// JSON, a call or (with ``ToolChoice/auto``) a plain answer; not with ``constraint``.
    public var tools: [FunctionTool]?
    /// Which calls the answer may make (JSON `tool_choice`); `nil` is OpenAI's default: `auto`
    /// with tools, `none` without.
    public var toolChoice: ToolChoice?
    /// Whether an answer may call several tools at once (JSON `parallel_tool_calls`; default
    /// `false`, as llama.cpp's server has it: one call per answer).
    public var parallelToolCalls: Bool = false
    /// What a `max_tokens` of `nil` comes to once the prompt is known. Not part of the JSON: the
    /// server's OpenAI chat endpoint sets it.
    package var unlimitedMaxTokens: UnlimitedMaxTokens = .pastContext

    /// The length of an output without `max_tokens`, in vLLM 0.4's two readings of `None`.
    package enum UnlimitedMaxTokens: Sendable, Equatable {
        /// vLLM's engine (`SamplingParams(max_tokens=None)`, `StopChecker`): the output runs until
        /// prompt + output exceed the context, context − prompt + 1 tokens, the last one sampled
        /// from the full cache. `/v1/generate`, the library, and `/v1/completions`, whose vLLM
        /// server builds its `SamplingParams` before it resolves `None`.
        case pastContext
        /// vLLM's OpenAI chat server (`OpenAIServing._validate_prompt_and_tokenize`, called before
        /// `to_sampling_params`): `max_tokens = context_len - token_num`, and a prompt that fills
        /// the context leaves a `max_tokens` below 1, which `SamplingParams` refuses.
        case contextRemainder
    }

    /// A sampling field of ``sampling``, read and written as the request's own
    /// (`request.temperature`, `request.maxTokens = 64`).
    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<SamplingParameters, Value>) -> Value {
        get { sampling[keyPath: keyPath] }
        set { sampling[keyPath: keyPath] = newValue }
    }

    /// A request with `sampling` as given.
    public init(model: String? = nil, prompt: String? = nil, messages: [ChatMessage]? = nil,
                promptTokenIDs: [Int]? = nil, sampling: SamplingParameters, mockResponse: Bool = false,
                stream: Bool = false) {
        self.model = model
        self.prompt = prompt
        self.messages = messages
        self.promptTokenIDs = promptTokenIDs
        self.sampling = sampling
        self.mockResponse = mockResponse
        self.stream = stream
    }

    /// A request with vLLM's defaults for every field not given; the sampling fields go into
    /// ``sampling``.
    public init(
        model: String? = nil, prompt: String? = nil, messages: [ChatMessage]? = nil, maxTokens: Int? = 16,
        n: Int = 1, bestOf: Int? = nil, presencePenalty: Double = 0, frequencyPenalty: Double = 0,
        repetitionPenalty: Double = 1, temperature: Double = 1, topP: Double = 1, topK: Int = -1,
        minP: Double = 0, useBeamSearch: Bool = false, lengthPenalty: Double = 1,
        earlyStopping: EarlyStopping = .heuristic, mockResponse: Bool = false, seed: UInt64? = nil,
        stop: [String] = [], stopTokenIDs: [Int] = [], logprobs: Int? = nil, stream: Bool = false,
        ignoreEOS: Bool = false, promptTokenIDs: [Int]? = nil
    ) {
        self.init(
            model: model, prompt: prompt, messages: messages, promptTokenIDs: promptTokenIDs,
            sampling: SamplingParameters(
                maxTokens: maxTokens, n: n, bestOf: bestOf, presencePenalty: presencePenalty,
                frequencyPenalty: frequencyPenalty, repetitionPenalty: repetitionPenalty, temperature: temperature,
                topP: topP, topK: topK, minP: minP, useBeamSearch: useBeamSearch, lengthPenalty: lengthPenalty,
                earlyStopping: earlyStopping, seed: seed, stop: stop, stopTokenIDs: stopTokenIDs, logprobs: logprobs,
                ignoreEOS: ignoreEOS),
            mockResponse: mockResponse, stream: stream)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, prompt, messages, n, temperature, seed, stop, logprobs, stream
        case formattedPrompt = "formatted_prompt"
        case maxTokens = "max_tokens"
        case bestOf = "best_of"
        case presencePenalty = "presence_penalty"
        case frequencyPenalty = "frequency_penalty"
        case repetitionPenalty = "repetition_penalty"
        case topP = "top_p"
        case topK = "top_k"
        case minP = "min_p"
        case useBeamSearch = "use_beam_search"
        case lengthPenalty = "length_penalty"
        case earlyStopping = "early_stopping"
        case mockResponse = "mock_response"
        case stopTokenIDs = "stop_token_ids"
        case ignoreEOS = "ignore_eos"
        case promptTokenIDs = "prompt_token_ids"
        case guidedJSON = "guided_json"
        case guidedChoice = "guided_choice"
        case guidedRegex = "guided_regex"
        case guidedGrammar = "guided_grammar"
        case grammar
        case jsonSchema = "json_schema"
        case responseFormat = "response_format"
        case tools
        case toolChoice = "tool_choice"
        case parallelToolCalls = "parallel_tool_calls"
    }

    /// ``toolChoice`` with its default: `auto` when there are tools, `none` otherwise.
    public var effectiveToolChoice: ToolChoice {
        toolChoice ?? (tools?.isEmpty == false ? .auto : .none)
    }

    /// Whether the answer is in ``ToolCallFormat``: the request offers tools and does not say
    /// `tool_choice` `none`.
    public var usesTools: Bool {
        tools?.isEmpty == false && effectiveToolChoice != .none
    }

    /// The JSON key errors about ``constraint`` name.
    public var constraintFieldName: String {
        if let constraintField { return constraintField }
        switch constraint {
        case .regex?: return "guided_regex"
        case .choice?: return "guided_choice"
        case .grammar?: return "guided_grammar"
        case .jsonObject?: return "response_format"
        case .jsonSchema?, nil: return "guided_json"
        }
    }

    /// Reads the constraint fields and the tools' parameter schemas again from the request's JSON
    /// text, which keeps a schema's properties in the order the client wrote them (decoding
    /// through `Codable` loses it, and the order is the output's). Text that does not parse
    /// leaves the request as it is.
    package mutating func readConstraintInOrder(fromBody body: some Collection<UInt8>) {
        guard constraint != nil || tools != nil,
              case let .object(members)? = try? JSONNode.parse(String(decoding: body, as: UTF8.self))
        else { return }
        if constraint != nil, let (ordered, field) = try? RequestConstraintField.constraint(from: members) {
            constraint = ordered
            constraintField = field
        }
        if tools != nil, let value = members.last(where: { $0.key == "tools" })?.value,
           let ordered = try? FunctionTool.parse(value) {
            tools = ordered
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SamplingParameters()
        func field<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try Self.decodeField(c, key) ?? fallback
        }
        model = try Self.decodeField(c, .model)
        // `prompt` is the parameter table's name, `formatted_prompt` the sample body's.
        let plain: String? = try Self.decodeField(c, .prompt)
        let formatted: String? = try Self.decodeField(c, .formattedPrompt)
        if let plain, let formatted, plain != formatted {
            throw GenerateError.invalidField(field: "prompt", reason: "prompt and formatted_prompt differ; send one of them")
        }
        prompt = plain ?? formatted
        messages = try Self.decodeField(c, .messages)
        promptTokenIDs = try Self.decodeField(c, .promptTokenIDs)
        // Absent is vLLM's default 16; an explicit null is vLLM's None (no limit).
        let maxTokens: Int?
        if c.contains(.maxTokens), try c.decodeNil(forKey: .maxTokens) {
            maxTokens = nil
        } else {
            maxTokens = try field(.maxTokens, 16)
        }
        sampling = SamplingParameters(
            maxTokens: maxTokens,
            n: try field(.n, d.n),
            bestOf: try Self.decodeField(c, .bestOf),
            presencePenalty: try field(.presencePenalty, d.presencePenalty),
            frequencyPenalty: try field(.frequencyPenalty, d.frequencyPenalty),
            repetitionPenalty: try field(.repetitionPenalty, d.repetitionPenalty),
            temperature: try field(.temperature, d.temperature),
            topP: try field(.topP, d.topP),
            topK: try field(.topK, d.topK),
            minP: try field(.minP, d.minP),
            useBeamSearch: try field(.useBeamSearch, d.useBeamSearch),
            lengthPenalty: try field(.lengthPenalty, d.lengthPenalty),
            earlyStopping: try (Self.decodeField(c, .earlyStopping) as EarlyStoppingJSON?)?.value ?? d.earlyStopping,
            seed: try (Self.decodeField(c, .seed) as SeedJSON?)?.value,
            stop: try (Self.decodeField(c, .stop) as StopJSON?)?.strings ?? [],
            stopTokenIDs: try field(.stopTokenIDs, d.stopTokenIDs),
            logprobs: try Self.decodeField(c, .logprobs),
            ignoreEOS: try field(.ignoreEOS, d.ignoreEOS))
        mockResponse = try field(.mockResponse, false)
        stream = try field(.stream, false)
        var fields: [(key: String, value: JSONNode)] = []
        for key in [CodingKeys.guidedJSON, .guidedChoice, .guidedRegex, .guidedGrammar, .grammar, .jsonSchema, .responseFormat] {
            if let value: JSONNode = try Self.decodeField(c, key) { fields.append((key.stringValue, value)) }
        }
        if let (found, key) = try RequestConstraintField.constraint(from: fields) {
            constraint = found
            constraintField = key
        }
        if let value: JSONNode = try Self.decodeField(c, .tools) { tools = try FunctionTool.parse(value) }
        if let value: JSONNode = try Self.decodeField(c, .toolChoice) { toolChoice = try ToolChoice.parse(value) }
        parallelToolCalls = try field(.parallelToolCalls, false)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let s = sampling
        try c.encodeIfPresent(model, forKey: .model)
        try c.encodeIfPresent(prompt, forKey: .prompt)
        try c.encodeIfPresent(messages, forKey: .messages)
        try c.encodeIfPresent(promptTokenIDs, forKey: .promptTokenIDs)
        try c.encode(s.maxTokens, forKey: .maxTokens)  // null when unlimited
        try c.encode(s.n, forKey: .n)
        try c.encodeIfPresent(s.bestOf, forKey: .bestOf)
        try c.encode(s.presencePenalty, forKey: .presencePenalty)
        try c.encode(s.frequencyPenalty, forKey: .frequencyPenalty)
        try c.encode(s.repetitionPenalty, forKey: .repetitionPenalty)
        try c.encode(s.temperature, forKey: .temperature)
        try c.encode(s.topP, forKey: .topP)
        try c.encode(s.topK, forKey: .topK)
        try c.encode(s.minP, forKey: .minP)
        try c.encode(s.useBeamSearch, forKey: .useBeamSearch)
        try c.encode(s.lengthPenalty, forKey: .lengthPenalty)
        try c.encode(EarlyStoppingJSON(value: s.earlyStopping), forKey: .earlyStopping)
        try c.encode(mockResponse, forKey: .mockResponse)
        try c.encodeIfPresent(s.seed, forKey: .seed)
        if !s.stop.isEmpty { try c.encode(s.stop, forKey: .stop) }
        if !s.stopTokenIDs.isEmpty { try c.encode(s.stopTokenIDs, forKey: .stopTokenIDs) }
        try c.encodeIfPresent(s.logprobs, forKey: .logprobs)
        if stream { try c.encode(stream, forKey: .stream) }
        if s.ignoreEOS { try c.encode(s.ignoreEOS, forKey: .ignoreEOS) }
        switch constraint {
        case let .jsonSchema(schema)?: try c.encode(schema, forKey: .guidedJSON)
        case .jsonObject?: try c.encode(JSONNode.object([("type", .string("json_object"))]), forKey: .responseFormat)
        case let .regex(pattern)?: try c.encode(pattern, forKey: .guidedRegex)
        case let .choice(choices)?: try c.encode(choices, forKey: .guidedChoice)
        case let .grammar(source)?: try c.encode(source, forKey: .guidedGrammar)
        case nil: break
        }
        if let tools { try c.encode(JSONNode.array(tools.map(\.json)), forKey: .tools) }
        if let toolChoice { try c.encode(toolChoice.json, forKey: .toolChoice) }
        if parallelToolCalls { try c.encode(true, forKey: .parallelToolCalls) }
    }

    /// Decodes one optional field; JSON `null` counts as absent. A wrong type becomes a typed
    /// error naming the JSON key instead of a `DecodingError` with a coding path.
    private static func decodeField<T: Decodable>(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> T? {
        do {
            return try c.decodeIfPresent(T.self, forKey: key)
        } catch let error as GenerateError {
            throw error
        } catch {
            throw GenerateError.invalidField(field: key.stringValue, reason: "expected \(jsonTypeName(T.self))")
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type: return "an integer"
        case is UInt64.Type: return "a non-negative integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is [ChatMessage].Type: return "an array of {\"role\": string, \"content\": string} objects (assistant messages may carry tool_calls, tool messages tool_call_id)"
        case is [Int].Type: return "an array of integers"
        case is EarlyStoppingJSON.Type: return "true, false or \"never\""
        case is StopJSON.Type: return "a string or an array of strings"
        case is SeedJSON.Type: return "an integer from -2^63 to 2^64 - 1"
        default: return "a value of another type"
        }
    }
}

/// `early_stopping` on the wire: `true`, `false` or `"never"`.
struct EarlyStoppingJSON: Codable {
    var value: EarlyStopping

    init(value: EarlyStopping) { self.value = value }

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let flag = try? c.decode(Bool.self) {
            value = flag ? .atOnce : .heuristic
        } else if let text = try? c.decode(String.self), text == "never" {
            value = .never
        } else {
            throw GenerateError.invalidField(field: "early_stopping", reason: "expected true, false or \"never\"")
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch value {
        case .atOnce: try c.encode(true)
        case .heuristic: try c.encode(false)
        case .never: try c.encode("never")
        }
    }
}

/// `seed` on the wire: an unsigned 64-bit integer, or a negative one taken as its bit pattern.
struct SeedJSON: Decodable {
    var value: UInt64

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let unsigned = try? c.decode(UInt64.self) {
            value = unsigned
        } else {
            value = UInt64(bitPattern: try c.decode(Int64.self))
        }
    }
}

/// `stop` on the wire: one string or an array of them (as vLLM and OpenAI accept).
struct StopJSON: Decodable {
    var strings: [String]

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let one = try? c.decode(String.self) {
            strings = [one]
        } else {
            strings = try c.decode([String].self)
        }
    }
}
