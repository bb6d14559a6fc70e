import Sampling

/// The body of `POST /v1/generate`: the documented request (`shared/seed/generate-api-doc.txt`)
/// with vLLM 0.4.x's meaning for every field.
///
/// Decoding accepts the document's sample body as it is, including its `formatted_prompt` spelling
/// of `prompt` and numbers written as integers (`"temperature": 1`). Missing fields take vLLM's
/// defaults; keys this type does not know are ignored, as vLLM ignores them. A field of the wrong
/// JSON type fails to decode with ``GenerateError/invalidField(field:reason:)`` naming it.
///
/// Where the document is wrong, this type follows vLLM:
/// - `min_p` is a probability in [0, 1] (a token survives when `p >= min_p * p_max`), not a count.
/// - `n` is the number of returned outputs; with beam search the beam width is `best_of`.
/// - `max_tokens` defaults to 16 as in vLLM (the document's sample sends 256); `null` means no
///   limit, as vLLM's `max_tokens=None`: the output runs until the context is full.
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
    /// The most tokens to generate; `nil` (JSON `null`): up to the context, which vLLM's engine
    /// reads as "until prompt + output exceed the context length", one token past a full cache.
    /// Omitted from the JSON it is 16.
    public var maxTokens: Int?
    /// How many outputs to return.
    public var n: Int
    /// How many candidates to generate (`nil`: `n`); the beam width with beam search.
    public var bestOf: Int?
    public var presencePenalty: Double
    public var frequencyPenalty: Double
    public var repetitionPenalty: Double
    public var temperature: Double
    public var topP: Double
    public var topK: Int
    public var minP: Double
    public var useBeamSearch: Bool
    public var lengthPenalty: Double
    public var earlyStopping: EarlyStopping
    /// Answer with a canned response without loading a model (not a vLLM field).
    public var mockResponse: Bool
    /// The random seed: the same seed gives the same output. `nil`: a random one. JSON takes any
    /// integer vLLM 0.4 takes (torch's `manual_seed` range, -2⁶³ ... 2⁶⁴ − 1); a negative one is
    /// its two's-complement bit pattern, so `-1` is the seed 2⁶⁴ − 1.
    public var seed: UInt64?
    /// Strings that end the output (JSON: a string or an array of strings).
    public var stop: [String]
    /// Token ids that end the output, besides the model's own end tokens.
    public var stopTokenIDs: [Int]
    /// How many most likely alternatives to report per generated token.
    public var logprobs: Int?
    /// vLLM's `ignore_eos`: the model's end tokens do not end the output (kept in the token ids,
    /// not in the text); it runs to `max_tokens`, a stop string or a stop token id.
    public var ignoreEOS: Bool
    /// Ask for a stream of text deltas (used by the server; the library's ``Engine/stream(request:)``
    /// streams whatever this says).
    public var stream: Bool
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

    /// A request with vLLM's defaults for every field not given.
    public init(
        model: String? = nil, prompt: String? = nil, messages: [ChatMessage]? = nil, maxTokens: Int? = 16,
        n: Int = 1, bestOf: Int? = nil, presencePenalty: Double = 0, frequencyPenalty: Double = 0,
        repetitionPenalty: Double = 1, temperature: Double = 1, topP: Double = 1, topK: Int = -1,
        minP: Double = 0, useBeamSearch: Bool = false, lengthPenalty: Double = 1,
        earlyStopping: EarlyStopping = .heuristic, mockResponse: Bool = false, seed: UInt64? = nil,
        stop: [String] = [], stopTokenIDs: [Int] = [], logprobs: Int? = nil, stream: Bool = false,
        ignoreEOS: Bool = false, promptTokenIDs: [Int]? = nil
    ) {
        self.model = model
        self.prompt = prompt
        self.messages = messages
        self.maxTokens = maxTokens
        self.n = n
        self.bestOf = bestOf
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.repetitionPenalty = repetitionPenalty
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
        self.useBeamSearch = useBeamSearch
        self.lengthPenalty = lengthPenalty
        self.earlyStopping = earlyStopping
        self.mockResponse = mockResponse
        self.seed = seed
        self.stop = stop
        self.stopTokenIDs = stopTokenIDs
        self.logprobs = logprobs
        self.stream = stream
        self.ignoreEOS = ignoreEOS
        self.promptTokenIDs = promptTokenIDs
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
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = GenerateRequest()
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
        if c.contains(.maxTokens), try c.decodeNil(forKey: .maxTokens) {
            maxTokens = nil
        } else {
            maxTokens = try field(.maxTokens, 16)
        }
        n = try field(.n, d.n)
        bestOf = try Self.decodeField(c, .bestOf)
        presencePenalty = try field(.presencePenalty, d.presencePenalty)
        frequencyPenalty = try field(.frequencyPenalty, d.frequencyPenalty)
        repetitionPenalty = try field(.repetitionPenalty, d.repetitionPenalty)
        temperature = try field(.temperature, d.temperature)
        topP = try field(.topP, d.topP)
        topK = try field(.topK, d.topK)
        minP = try field(.minP, d.minP)
        useBeamSearch = try field(.useBeamSearch, d.useBeamSearch)
        lengthPenalty = try field(.lengthPenalty, d.lengthPenalty)
        earlyStopping = try (Self.decodeField(c, .earlyStopping) as EarlyStoppingJSON?)?.value ?? d.earlyStopping
        mockResponse = try field(.mockResponse, d.mockResponse)
        seed = try (Self.decodeField(c, .seed) as SeedJSON?)?.value
        stop = try (Self.decodeField(c, .stop) as StopJSON?)?.strings ?? []
        stopTokenIDs = try field(.stopTokenIDs, d.stopTokenIDs)
        logprobs = try Self.decodeField(c, .logprobs)
        stream = try field(.stream, d.stream)
        ignoreEOS = try field(.ignoreEOS, d.ignoreEOS)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(model, forKey: .model)
        try c.encodeIfPresent(prompt, forKey: .prompt)
        try c.encodeIfPresent(messages, forKey: .messages)
        try c.encodeIfPresent(promptTokenIDs, forKey: .promptTokenIDs)
        try c.encode(maxTokens, forKey: .maxTokens)  // null when unlimited
        try c.encode(n, forKey: .n)
        try c.encodeIfPresent(bestOf, forKey: .bestOf)
        try c.encode(presencePenalty, forKey: .presencePenalty)
        try c.encode(frequencyPenalty, forKey: .frequencyPenalty)
        try c.encode(repetitionPenalty, forKey: .repetitionPenalty)
        try c.encode(temperature, forKey: .temperature)
        try c.encode(topP, forKey: .topP)
        try c.encode(topK, forKey: .topK)
        try c.encode(minP, forKey: .minP)
        try c.encode(useBeamSearch, forKey: .useBeamSearch)
        try c.encode(lengthPenalty, forKey: .lengthPenalty)
        try c.encode(EarlyStoppingJSON(value: earlyStopping), forKey: .earlyStopping)
        try c.encode(mockResponse, forKey: .mockResponse)
        try c.encodeIfPresent(seed, forKey: .seed)
        if !stop.isEmpty { try c.encode(stop, forKey: .stop) }
        if !stopTokenIDs.isEmpty { try c.encode(stopTokenIDs, forKey: .stopTokenIDs) }
        try c.encodeIfPresent(logprobs, forKey: .logprobs)
        if stream { try c.encode(stream, forKey: .stream) }
        if ignoreEOS { try c.encode(ignoreEOS, forKey: .ignoreEOS) }
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
        case is [ChatMessage].Type: return "an array of {\"role\": string, \"content\": string} objects"
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
