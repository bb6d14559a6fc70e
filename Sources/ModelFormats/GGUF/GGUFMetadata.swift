/// A GGUF file's metadata: key/value pairs in file order, with typed accessors.
///
/// The optional accessors (`string(_:)`, `int(_:)` …) answer `nil` when a key is absent; the
/// `require…` forms throw `GGUFError.missingKey` or `GGUFError.typeMismatch` naming the key.
public struct GGUFMetadata: Sendable, Equatable {
    /// The pairs as parsed; a string array held in `stringArrays` has an empty placeholder here.
    private let stored: [(key: String, value: GGUFValue)]
    private let index: [String: Int]
    /// Top-level string arrays by entry index, kept as bytes until someone asks for `String`s.
    private let stringArrays: [Int: GGUFStringArray]

    init(entries: [(key: String, value: GGUFValue)], index: [String: Int], stringArrays: [Int: GGUFStringArray] = [:]) {
        stored = entries
        self.index = index
        self.stringArrays = stringArrays
    }

    public static func == (a: GGUFMetadata, b: GGUFMetadata) -> Bool {
        a.count == b.count && zip(a.entries, b.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// The pairs in the order the file stores them. String arrays become `[String]` here, on every
    /// call; read one key with the subscript, or `stringArrayBytes(_:)`, to avoid that.
    public var entries: [(key: String, value: GGUFValue)] {
        stored.indices.map { (stored[$0].key, value(at: $0)) }
    }

    public var count: Int { stored.count }
    public var keys: [String] { stored.map(\.key) }

    public subscript(key: String) -> GGUFValue? {
        guard let i = index[key] else { return nil }
        return value(at: i)
    }

    /// Whether `key` is present (without building its value).
    public func contains(_ key: String) -> Bool { index[key] != nil }

    private func value(at i: Int) -> GGUFValue {
        if let strings = stringArrays[i] { return .array(.string(strings.strings)) }
        return stored[i].value
    }

    /// The string array `key` as UTF-8 bytes without a `String` per element, when the parser kept
    /// it that way (a top-level string array: a vocabulary's tokens and merges); nil otherwise, in
    /// which case `array(_:)` still has it.
    public func stringArrayBytes(_ key: String) -> GGUFStringArray? {
        index[key].flatMap { stringArrays[$0] }
    }

    public func string(_ key: String) -> String? { self[key]?.stringValue }
    public func int(_ key: String) -> Int? { self[key]?.intValue }
    /// A float or integer value as `Double`.
    public func double(_ key: String) -> Double? { self[key]?.doubleValue }
    public func bool(_ key: String) -> Bool? { self[key]?.boolValue }
    public func array(_ key: String) -> GGUFArray? { self[key]?.arrayValue }

    public func requireValue(_ key: String) throws(GGUFError) -> GGUFValue {
        guard let v = self[key] else { throw .missingKey(key) }
        return v
    }

    public func requireString(_ key: String) throws(GGUFError) -> String {
        let v = try requireValue(key)
        guard let s = v.stringValue else { throw .typeMismatch(key: key, expected: "string", actual: v.typeDescription) }
        return s
    }

    public func requireInt(_ key: String) throws(GGUFError) -> Int {
        let v = try requireValue(key)
        guard let i = v.intValue else { throw .typeMismatch(key: key, expected: "integer", actual: v.typeDescription) }
        return i
    }

    public func requireDouble(_ key: String) throws(GGUFError) -> Double {
        let v = try requireValue(key)
        guard let d = v.doubleValue else { throw .typeMismatch(key: key, expected: "number", actual: v.typeDescription) }
        return d
    }

    public func requireBool(_ key: String) throws(GGUFError) -> Bool {
        let v = try requireValue(key)
        guard let b = v.boolValue else { throw .typeMismatch(key: key, expected: "bool", actual: v.typeDescription) }
        return b
    }

    public func requireStringArray(_ key: String) throws(GGUFError) -> [String] {
        let v = try requireValue(key)
        guard let a = v.arrayValue?.stringValues else {
            throw .typeMismatch(key: key, expected: "array[string]", actual: v.typeDescription)
        }
        return a
    }

    public func requireIntArray(_ key: String) throws(GGUFError) -> [Int] {
        let v = try requireValue(key)
        guard let a = v.arrayValue?.intValues else {
            throw .typeMismatch(key: key, expected: "array of integers", actual: v.typeDescription)
        }
        return a
    }

    public func requireFloatArray(_ key: String) throws(GGUFError) -> [Float] {
        let v = try requireValue(key)
        guard let a = v.arrayValue?.floatValues else {
            throw .typeMismatch(key: key, expected: "array[f32]", actual: v.typeDescription)
        }
        return a
    }
}
