import JSON

extension TemplateValue {
    /// Parses a JSON document (RFC 8259) into a value, keeping object members in order (a repeated
    /// key stays repeated) and numbers written without fraction or exponent as integers (those past
    /// `Int` become doubles). Nesting deeper than 128 levels is refused.
    /// - Throws: ``TemplateError/runtime(message:)`` "invalid JSON at byte N: reason".
    public init(json: some Collection<UInt8>) throws(TemplateError) {
        let document: JSONValue
        do { document = try JSONValue(parsing: json, maxDepth: 128) } catch {
            throw .runtime(message: error.description)
        }
        self.init(jsonValue: document)
    }

    /// The template value of a parsed JSON value; the reader's depth limit bounds the recursion.
    init(jsonValue json: JSONValue) {
        switch json {
        case .null: self = .none
        case let .bool(b): self = .bool(b)
        case let .number(n): self = n.int.map(TemplateValue.int) ?? .double(n.double)
        case let .string(s): self = .string(s)
        case let .array(items): self = .array(items.map { TemplateValue(jsonValue: $0) })
        case let .object(members): self = .object(members.map { (key: $0.key, value: TemplateValue(jsonValue: $0.value)) })
        }
    }
}
