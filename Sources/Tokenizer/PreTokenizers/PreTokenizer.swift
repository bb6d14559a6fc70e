/// The pre-tokenizer that `tokenizer.ggml.pre` names: splits text into the pieces byte-level BPE
/// merges within. Each family is llama.cpp's list of regexes (`llm_tokenizer_bpe`), applied one after
/// another, each regex re-splitting every piece of the one before; here each regex is a hand-written
/// scanner (`SplitRule`) over Unicode scalars.
struct PreTokenizer: Sendable {
    /// The family, after resolving aliases (`llama3` and `llama-bpe` are both `.llama3`).
    enum Family: String, Sendable, CaseIterable {
        case `default`, llama3, gpt2, starcoder, qwen2, deepseekLLM = "deepseek-llm", deepseekCoder = "deepseek-coder", falcon
    }

    let family: Family
    let rules: [SplitRule]
    /// llama.cpp's `ignore_merges`: a piece that is a token as a whole becomes that token without
    /// running the merges (Llama-3's tokenizer.json sets it; HF and llama.cpp agree on the result).
    let ignoresMerges: Bool

    /// The names llama.cpp maps to each family (llama-vocab.cpp, `llama_vocab::impl::load`), limited
    /// to names whose llama.cpp handling is only the regex list (and `ignore_merges`): names that also
    /// change special tokens or decoding (chatglm, roberta-bpe, ...) are left out.
    static let familyByName: [String: (Family, ignoresMerges: Bool)] = {
        var map: [String: (Family, ignoresMerges: Bool)] = ["default": (.default, false)]
        for name in ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"] {
            map[name] = (.llama3, true)
        }
        // Same regex as Llama-3, but llama.cpp does not set ignore_merges for them.
        for name in ["dbrx", "smaug-bpe"] { map[name] = (.llama3, false) }
        for name in ["gpt-2", "gpt2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de",
                     "a.x-4.0", "mellum", "modern-bert", "exaone4", "mpt", "olmo", "jais", "trillion", "granite-docling"] {
            map[name] = (.gpt2, false)
        }
        for name in ["starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2"] {
            map[name] = (.starcoder, false)
        }
        for name in ["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open"] {
            map[name] = (.qwen2, false)
        }
        map["deepseek-llm"] = (.deepseekLLM, false)
        map["deepseek-coder"] = (.deepseekCoder, false)
        map["falcon"] = (.falcon, false)
        return map
    }()

    /// Every `tokenizer.ggml.pre` value this library accepts.
    static var supportedNames: [String] { familyByName.keys.sorted() }

    /// The pre-tokenizer for `name` (`tokenizer.ggml.pre`; empty means "default", as in llama.cpp).
    /// - Throws: `TokenizerError.unsupportedPreTokenizer` for a name llama.cpp does not know or this
    ///   library does not implement.
    init(name: String) throws(TokenizerError) {
        guard let (family, ignoresMerges) = Self.familyByName[name.isEmpty ? "default" : name] else {
            throw .unsupportedPreTokenizer(name)
        }
        self.family = family
        self.ignoresMerges = ignoresMerges
        switch family {
        case .default: rules = DefaultFamily.rules
        case .llama3: rules = [.llama3(maxDigits: 3)]
        case .gpt2: rules = [.gpt2]
        case .starcoder: rules = StarCoderFamily.rules
        case .qwen2: rules = [.llama3(maxDigits: 1)]
        case .deepseekLLM: rules = DeepSeekLLMFamily.rules
        case .deepseekCoder: rules = DeepSeekCoderFamily.rules
        case .falcon: rules = FalconFamily.rules
        }
    }

    /// Sets `ends` to the end offset (in scalars) of every piece of `text`, in order; the last is
    /// `text.count`. `scratch` is working space for families of several rules.
    func pieceEnds(_ text: ScalarText, into ends: inout [Int], scratch: inout [Int]) {
        ends.removeAll(keepingCapacity: true)
        guard text.count > 0 else { return }
        ends.append(text.count)
        for rule in rules {
            swap(&ends, &scratch)
            ends.removeAll(keepingCapacity: true)
            var start = 0
            for end in scratch {
                rule.split(text, start ..< end, into: &ends)
                start = end
            }
        }
    }

    /// The pieces of `text` as strings (for tests and tools; encoding works on offsets).
    func split(_ text: String) -> [String] {
        let utf8 = Array(text.utf8)
        let scalars = utf8.withUnsafeBufferPointer { ScalarText($0) }
        var ends: [Int] = [], scratch: [Int] = []
        pieceEnds(scalars, into: &ends, scratch: &scratch)
        var start = 0
        var byteStart = 0
        var pieces: [String] = []
        for end in ends {
            var byteEnd = byteStart
            for i in start ..< end { byteEnd += ScalarText.utf8Length(scalars.scalars[i]) }
            pieces.append(String(decoding: utf8[byteStart ..< byteEnd], as: UTF8.self))
            start = end
            byteStart = byteEnd
        }
        return pieces
    }

    /// Where to cut a long text so that each part can be pre-tokenized on its own with the same
    /// result: before a space that has an ASCII letter on both sides. Every family ends a piece
    /// there (a letter run stops at the space, and the space starts the next word's piece) and no
    /// rule looks across it. Returns the first such cut at or after `from + target`, or the end
    /// of the text when there is none (then the rest is one part, still exact, only larger).
    static func chunkEnd(_ utf8: UnsafeBufferPointer<UInt8>, from start: Int, target: Int) -> Int {
        let n = utf8.count
        guard target >= 1, (n - start) / 2 > target else { return n }
        @inline(__always) func isLetter(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
        var p = start + target
        while p + 1 < n {
            if utf8[p] == 0x20, isLetter(utf8[p - 1]), isLetter(utf8[p + 1]) { return p }
            p += 1
        }
        return n
    }
}
