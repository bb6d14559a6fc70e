import ArgumentParser
import Foundation
import GenerateAPI
import Sampling
import Tensor
import Tokenizer

/// `sparrow bench-structured`: what constrained output costs on one model. A benchmark, not a
/// test: it prints numbers and fails only when the model or the schemas cannot be read.
///
/// 1. Compile time of every schema of `--schemas` (the 20 of Fixtures/structured), the median of
///    `--seeds` rounds.
/// 2. The masker on the model's vocabulary: building the prefix tree, the first mask (a walk of
///    the whole tree with a recognizer that has memoised nothing), a mask in a string body, and a
///    mask met again (a cache hit), each a fresh masker's first.
/// 3. Unless `--masks-only`: generation tokens/s of the same request with and without the schema
///    (`guided_json`), interleaved over `--seeds` seeds, medians and their ratio — the issue's bar
///    is 0.85.
struct BenchStructured: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-structured",
        abstract: "Time schema compilation, first masks, and a JSON-schema request against the same request unconstrained.",
        discussion: """
            The request is the chat message "Describe a movie as JSON." with --max-tokens at \
            temperature 1 and seeds 0 ..< --seeds, run alternately without and with the schema named \
            --schema; the ratio is the median constrained tokens/s over the median unconstrained. \
            --masks-only needs only a vocabulary (a vocabulary-only GGUF file is enough). Build with \
            -c release (scripts/bench-structured-output.sh does).
            """
    )

    @Option(help: "A GGUF file (for --masks-only, a vocabulary-only GGUF file is enough).")
    var model: String

    @Option(help: "A JSON array of {\"name\", \"schema\"} objects.")
    var schemas = "Fixtures/structured/schemas.json"

    @Option(help: "The schema of the speed comparison and the mask timings, by name.")
    var schema = "movie"

    @Option(help: "Seeds of each kind of request (and compile rounds).")
    var seeds = 5

    @Option(help: "max_tokens of each request.")
    var maxTokens = 128

    @Flag(help: "Skip the generation speed comparison.")
    var masksOnly = false

    func validate() throws {
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1") }
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
    }

    func run() async throws {
        let entries = try loadSchemas()
        guard let benchSchema = entries.first(where: { $0.name == schema })?.schema else {
            throw CommandError("\(schemas): no schema named \(schema)")
        }
        print("model: \(model)  kernels: \(InstructionSet.best)")
        try compileTimes(entries)
        try maskTimes(benchSchema)
        if !masksOnly { try await speed(benchSchema) }
    }

    private func loadSchemas() throws -> [(name: String, schema: JSONNode)] {
        let text: String
        do { text = try String(contentsOfFile: schemas, encoding: .utf8) } catch {
            throw CommandError("\(schemas): \(error.localizedDescription)")
        }
        let root: JSONNode
        do { root = try JSONNode.parse(text) } catch { throw CommandError("\(schemas): \(error.description)") }
        guard case let .array(items) = root else { throw CommandError("\(schemas): expected an array") }
        return try items.map { item in
            guard case let .string(name)? = item["name"], let schema = item["schema"] else {
                throw CommandError("\(schemas): every entry needs a name and a schema")
            }
            return (name: name, schema: schema)
        }
    }

    private static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    private static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    private func compileTimes(_ entries: [(name: String, schema: JSONNode)]) throws {
        var rounds: [Double] = [], slowest = (name: "", seconds: 0.0)
        for _ in 0 ..< seeds {
            var total = 0.0
            for entry in entries {
                let t = try Self.seconds {
                    do { _ = try JSONSchemaGrammar.compile(entry.schema) } catch {
                        throw CommandError("schema \(entry.name): \(error)")
                    }
                }
                total += t
                if t > slowest.seconds { slowest = (entry.name, t) }
            }
            rounds.append(total)
        }
        print(String(format: "compile: %d schemas in %.2f ms (median of %d rounds; the slowest schema once: ",
                     entries.count, Self.median(rounds) * 1e3, seeds)
              + slowest.name + String(format: " %.2f ms)", slowest.seconds * 1e3))
    }

    private func maskTimes(_ schema: JSONNode) throws {
        let tokenizer: Tokenizer
        do { tokenizer = try Tokenizer(gguf: GGUFFile(path: model).metadata) } catch {
            throw CommandError("\(model): \(error)")
        }
        var vocabulary: TokenVocabulary?
        let build = Self.seconds { vocabulary = TokenVocabulary(tokenizer: tokenizer) }
        guard let vocabulary else { return }
        let grammar: CompiledGrammar
        do { grammar = try JSONSchemaGrammar.compile(schema) } catch { throw CommandError("schema: \(error.description)") }
        print(String(format: "vocabulary: %d tokens, %d prefix-tree nodes, built in %.1f ms",
                     vocabulary.size, vocabulary.nodeCount, build * 1e3))
        // Each a fresh masker's first mask at that state, so that no memo of an earlier walk helps.
        var first: [Double] = [], body: [Double] = [], next: [Double] = [], hit: [Double] = []
        var logits = [Float](repeating: 0, count: vocabulary.size)
        // Masking a logit vector, as generation does: the walk (unless the mask is cached) and the -inf writes.
        func apply(_ m: TokenMasker, _ state: GrammarState) -> Double {
            Self.seconds { _ = try? m.apply(state, to: &logits) }
        }
        var allowed = (0, 0)
        for _ in 0 ..< seeds {
            let fresh = try masker(grammar, vocabulary)
            first.append(apply(fresh, fresh.initial))
            allowed.0 = fresh.allowedTokens(fresh.initial).count
            let other = try masker(grammar, vocabulary)
            let inString = other.advance(other.initial, text: #"{"title": "A"#)
            body.append(apply(other, inString))
            hit.append(apply(other, inString))
            allowed.1 = other.allowedTokens(inString).count
            // One character on: a new state (the string's length is bounded), walked by a warm recognizer.
            next.append(apply(other, other.advance(inString, text: "B")))
        }
        print(String(format: "masks (median of %d fresh maskers): first at the start %.2f ms (%d allowed); "
                     + "first in a string body %.2f ms (%d allowed), the next character's %.2f ms, met again %.1f µs",
                     seeds, Self.median(first) * 1e3, allowed.0, Self.median(body) * 1e3, allowed.1,
                     Self.median(next) * 1e3, Self.median(hit) * 1e6))
    }

    private func masker(_ grammar: CompiledGrammar, _ vocabulary: TokenVocabulary) throws -> TokenMasker {
        do { return try TokenMasker(grammar: grammar, vocabulary: vocabulary, endTokens: []) } catch {
            throw CommandError("schema: \(error.description)")
        }
    }

    private func speed(_ schema: JSONNode) async throws {
        let engine = Engine(configuration: .init(registry: ModelRegistry(aliases: ["bench": model]), defaultModel: "bench"))
        var free: [Double] = [], constrained: [Double] = []
        // The chat message when the model has a chat template, else the same words as a raw prompt.
        var chat = true
        func request(seed: Int, guided: Bool) -> GenerateRequest {
            let words = "Describe a movie as JSON."
            var r = GenerateRequest(prompt: chat ? nil : words + "\n",
                                    messages: chat ? [ChatMessage(role: "user", content: words)] : nil,
                                    maxTokens: maxTokens, temperature: 1, seed: UInt64(seed))
            if guided { r.constraint = .jsonSchema(schema) }
            return r
        }
        do {
            for seed in 0 ..< seeds {
                for guided in [false, true] {
                    let response: GenerateResponse
                    do { response = try await engine.generate(request: request(seed: seed, guided: guided)) } catch GenerateError.noChatTemplate {
                        chat = false
                        print("  (no chat template: a raw prompt instead)")
                        response = try await engine.generate(request: request(seed: seed, guided: guided))
                    }
                    let rate = response.timing.generationTokensPerSecond
                    print(String(format: "  seed %d ", seed) + (guided ? "guided_json  " : "unconstrained")
                          + String(format: " %3d tokens %8.2f tokens/s", response.usage.completionTokens, rate))
                    if guided { constrained.append(rate) } else { free.append(rate) }
                }
            }
        } catch let error as GenerateError {
            throw CommandError(error.description)
        }
        let f = Self.median(free), c = Self.median(constrained)
        print(String(format: "speed: unconstrained %.2f tokens/s, guided_json %.2f tokens/s, ratio %.3f (bar 0.85)",
                     f, c, f > 0 ? c / f : 0))
    }
}
