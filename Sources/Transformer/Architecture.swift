import Tensor

/// Everything Sparrow knows about one architecture, kept in that architecture's file (`Llama.swift`,
/// `Phi3.swift`): the names its checkpoints give it, how its GGUF files order Q and K, and how to
/// load one of its blocks. Adding a Llama-like architecture is one file with a definition and one
/// line in ``ModelConfig/Architecture/registry``.
protocol ArchitectureDefinition: Sendable {
    /// The architecture's name, as configurations spell it (`ModelConfig.Architecture`'s raw value).
    static var name: String { get }
    /// `general.architecture` values of its GGUF files.
    static var ggufNames: [String] { get }
    /// How its GGUF files order the rows of Q and K.
    static var ggufRopeConvention: ModelConfig.RopeConvention { get }
    /// `architectures[0]` (or `model_type`) values of its Hugging Face `config.json`.
    static var huggingFaceNames: [String] { get }
    /// Its projections are fused (q|k|v, gate|up): the pass needs the wider scratch rows.
    static var fusesProjections: Bool { get }
    /// llama.cpp's graph scales the queries by 1/√d before the F16 product with the keys, rather
    /// than the scores after.
    static var llamaCppScalesQueriesFirst: Bool { get }
    /// Texts of control tokens that end a generated turn beyond the tokenizer's end ids (Phi-3's
    /// `generation_config` also stops at `<|assistant|>`).
    static var endOfTurnTexts: [String] { get }
    /// Layer `layer`'s block, each weight checked against the configuration's shapes.
    static func loadBlock(_ weights: WeightLoader, layer: Int, config: ModelConfig) throws(TransformerError) -> any DecoderBlock
}

extension ModelConfig {
    /// The forward pass to run: one of ``registry``'s architectures, by name.
    public struct Architecture: Hashable, Sendable, Codable, CustomStringConvertible {
        /// Its name (`llama`, `mistral`, `phi3`).
        public let name: String

        /// Every architecture Sparrow runs.
        static let registry: [any ArchitectureDefinition.Type] = [Llama.self, Mistral.self, Phi3.self]

        /// The names of every architecture Sparrow runs.
        public static var supportedNames: [String] { registry.map { $0.name } }

        init(_ definition: any ArchitectureDefinition.Type) { name = definition.name }

        /// The architecture named `name`, if Sparrow runs it.
        public init?(name: String) {
            guard Self.registry.contains(where: { $0.name == name }) else { return nil }
            self.name = name
        }

        var definition: any ArchitectureDefinition.Type {
            // `name` is always a registered one: both initialisers check it.
            Self.registry.first { $0.name == name } ?? Llama.self
        }

        /// The architecture of a GGUF file's `general.architecture`.
        static func gguf(_ name: String) -> (any ArchitectureDefinition.Type)? {
            registry.first { $0.ggufNames.contains(name) }
        }

        /// The architecture of a `config.json`'s `architectures[0]` or `model_type`.
        static func huggingFace(_ name: String) -> (any ArchitectureDefinition.Type)? {
            registry.first { $0.huggingFaceNames.contains(name) }
        }

        /// Texts of control tokens that also end a generated turn (see the architecture's file).
        public var endOfTurnTexts: [String] { definition.endOfTurnTexts }

        public var description: String { name }

        public init(from decoder: any Decoder) throws {
            let name = try decoder.singleValueContainer().decode(String.self)
            guard Self.registry.contains(where: { $0.name == name }) else {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: decoder.codingPath,
                    debugDescription: "unsupported architecture \"\(name)\" (supported: \(Self.supportedNames.joined(separator: ", ")))"))
            }
            self.name = name
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(name)
        }
    }
}
