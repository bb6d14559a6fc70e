/// A GGUF file's metadata: key/value pairs in file order, with typed accessors.
///
/// The optional accessors (`string(_:)`, `int(_:)` …) answer `nil` when a key is absent; the
/// `require…` forms throw `GGUFError.missingKey` or `GGUFError.typeMismatch` naming the key.
public struct GGUFMetadata: Sendable, Equatable {
    /// The pairs in the order the file stores them.
    public let entries: [(key: String, value: GGUFValue)]
    private let index: [String: Int]

    init(entries: [(key: String, value: GGUFValue)], index: [String: Int]) {
        self.entries = entries
        self.index = index
    }

    public static func == (a: GGUFMetadata, b: GGUFMetadata) -> Bool {
        a.entries.count == b.entries.count
            && zip(a.entries, b.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public var count: Int { entries.count }
    public var keys: [String] { entries.map(\.key) }

    public subscript(key: String) -> GGUFValue? {
        guard let i = index[key] else { return nil }
        return entries[i].value
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
