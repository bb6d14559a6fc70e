import FuzzDriver
import Glibc
import Sampling

/// One input: the first byte picks the front end — GBNF, regular expression, JSON schema, or a
/// choice list (one choice per line) — and the rest is its text. What compiles is then run: the
/// masker's recognizer reads the text's own bytes (arbitrary input against the grammar) and masks
/// a small vocabulary at each step, so the parsers, the compiler's limits, the recognizer, the
/// masker and the cache's budget all see hostile input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGrammar(_ data: UnsafeRawPointer?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
    // Small limits keep each input fast; the defaults are checked the same way, only bigger.
    let limits = GrammarLimits(maxSourceBytes: 1 << 16, maxRules: 4096, maxAlternatives: 512, maxSymbols: 1 << 15,
                               maxNesting: 32, maxRepetition: 256, maxStacks: 256)
    let grammar: CompiledGrammar
    do {
        switch bytes[0] % 4 {
        case 0: grammar = try CompiledGrammar(gbnf: text, limits: limits)
        case 1: grammar = try RegexGrammar.compile(text, limits: limits)
        case 2: grammar = try JSONSchemaGrammar.compile(try JSONNode.parse(text, maxDepth: limits.maxNesting), limits: limits)
        default: grammar = try ChoiceGrammar.compile(text.split(separator: "\n").map(String.init), limits: limits)
        }
    } catch {
        blackHole(error.description.count)
        return 0
    }
    // Through a small shared cache, so that charging, eviction and memo drops see hostile grammars too.
    guard let lease = try? cache?.lease(grammar: grammar, vocabulary: vocabulary, endTokens: [0], limits: limits) else { return 0 }
    let masker = lease.masker
    var state = masker.initial
    var sink = 0
    var logits = [Float](repeating: 0, count: vocabulary.size)
    for (i, b) in bytes.dropFirst().prefix(64).enumerated() {
        if i % 8 == 0 { sink &+= (try? masker.apply(state, to: &logits)) == true ? 1 : 0 }
        state = masker.advance(state, bytes: [b])
        if state.isDead { break }
    }
    sink &+= masker.canEnd(state) ? 1 : 0
    blackHole(sink)
    return 0
}

/// Every input's maskers, within 256 KiB together. Released at exit, before LeakSanitizer's check
/// (see `fuzzGrammarMain`). Only the fuzzing thread touches it.
nonisolated(unsafe) var cache: GrammarCache? = GrammarCache(byteBudget: 256 << 10)

/// Bytes and pieces of text a grammar may ask for, including the halves of multi-byte characters.
let vocabulary: TokenVocabulary = {
    var tokens: [[UInt8]?] = [nil]
    for b in UInt8(0) ... 255 { tokens.append([b]) }
    for s in ["{\"", "\":", "true", "null", "é", "😀", "ab", " the", "\\u00", "[1,", "]}"] {
        tokens.append(Array(s.utf8))
        tokens.append(Array(s.utf8.dropFirst()))
    }
    return TokenVocabulary(tokens: tokens)
}()

/// Keeps the work above from being optimised away.
@inline(never) func blackHole(_ x: Int) { if x == -0x5eed { print(x) } }

/// The entry point SwiftPM's link names (`main` is an alias of `<Module>_main`): libFuzzer's driver
/// over the same function as `LLVMFuzzerTestOneInput`.
@_cdecl("FuzzGrammar_main")
public func fuzzGrammarMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    // LeakSanitizer's exit check cannot see every pointer Swift stores: a multi-payload enum keeps its
    // case in the spare bits of the payload's pointer (a cached `.bits` mask), and an object's weak
    // side table is referenced only from its shifted, flagged refcount word (the cache, once no
    // masker's account refers to it). What the cache still holds at exit would be reported as leaked,
    // so it is released first: handlers registered later run earlier, and the sanitizer registers
    // its check before main.
    atexit { cache = nil }
    return sparrow_fuzz_main(argc, argv) { data, size in fuzzGrammar(UnsafeRawPointer(data), size) }
}
