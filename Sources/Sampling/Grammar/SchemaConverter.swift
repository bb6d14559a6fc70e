/// The state of one schema's conversion (see ``JSONSchemaGrammar``).
struct SchemaConverter {
    let root: JSONNode
    let limits: GrammarLimits
    private var order: [String] = []
    private var rules: [String: String] = [:]
    private var refNames: [String: String] = [:]
    private var resolving: Set<String> = []
    private var visits = 0

    init(root: JSONNode, limits: GrammarLimits) {
        self.root = root
        self.limits = limits
        define("space", JSONSchemaGrammar.space)
    }

    var text: String { order.map { "\($0) ::= \(rules[$0] ?? "")" }.joined(separator: "\n") + "\n" }

    mutating func define(_ name: String, _ body: String) {
        if rules[name] == nil { order.append(name) }
        rules[name] = body
    }

    static func sanitize(_ name: String) -> String {
        var out = ""
        var dash = false
        for u in name.unicodeScalars {
            if u.isASCII, u.properties.isAlphabetic || ("0" ... "9").contains(u) || u == "-" {
                out.unicodeScalars.append(u)
                dash = false
            } else if !dash {
                out += "-"
                dash = true
            }
        }
        return out.isEmpty ? "x" : out
    }

    /// Adds `body` under `name` (sanitised; a numbered variant when the name holds another body).
    mutating func add(_ name: String, _ body: String) -> String {
        let base = Self.sanitize(name)
        if rules[base] == nil || rules[base] == body {
            define(base, body)
            return base
        }
        var i = 0
        while let existing = rules["\(base)\(i)"], existing != body { i += 1 }
        define("\(base)\(i)", body)
        return "\(base)\(i)"
    }

    mutating func primitive(_ name: String) -> String {
        guard let p = JSONSchemaGrammar.primitives[name] else { return name }
        if rules[name] == nil {
            define(name, p.body)
            for d in p.dependencies { _ = primitive(d) }
        }
        return name
    }

    static let reserved: Set<String> = Set(JSONSchemaGrammar.primitives.keys).union(["root", "space"])

    func child(_ name: String, _ suffix: String) -> String { name == "root" ? suffix : name + "-" + suffix }

    func count(_ value: JSONNode?, _ key: String) throws(GrammarError) -> Int? {
        guard let value else { return nil }
        guard case let .number(text) = value, let n = Int(text), n >= 0 else {
            throw .unsupportedSchema("\(key) must be a non-negative integer")
        }
        guard n <= limits.maxRepetition else {
            throw .tooLarge(limit: "maxRepetition", reason: "\(key) \(n) exceeds \(limits.maxRepetition)")
        }
        return n
    }

    /// The rule that matches `schema`.
    mutating func visit(_ schema: JSONNode, name: String, depth: Int) throws(GrammarError) -> String {
        visits += 1
        guard depth <= limits.maxNesting else {
            throw .tooLarge(limit: "maxNesting", reason: "schemas nested more than \(limits.maxNesting) deep")
        }
        guard visits <= limits.maxRules else {
            throw .tooLarge(limit: "maxRules", reason: "the schema has more than \(limits.maxRules) subschemas")
        }
        let ruleName = Self.reserved.contains(name) && name != "root" ? name + "-" : name
        if case let .bool(b) = schema {
            guard b else { throw .unsupportedSchema("the schema false matches nothing") }
            return add(ruleName, primitive("value"))
        }
        guard case let .object(members) = schema else { throw .unsupportedSchema("a schema must be an object or a boolean") }
        for unsupported in ["allOf", "not", "if", "multipleOf", "minProperties", "maxProperties", "patternProperties",
                            "uniqueItems", "contains", "dependentRequired", "dependentSchemas", "propertyNames"]
        where schema[unsupported] != nil {
            throw .unsupportedSchema("\"\(unsupported)\" is not supported")
        }
        if case let .string(ref)? = schema["$ref"] {
            return add(ruleName, try resolve(ref, depth: depth))
        }
        if schema["$ref"] != nil { throw .unsupportedSchema("$ref must be a string") }
        if let options = schema["oneOf"] ?? schema["anyOf"] {
            guard case let .array(list) = options, !list.isEmpty else { throw .unsupportedSchema("anyOf/oneOf must be a non-empty array") }
            return add(ruleName, try union(list, name: name, depth: depth))
        }
        let type = schema["type"]
        if case let .array(types)? = type {
            guard !types.isEmpty else { throw .unsupportedSchema("type must not be an empty array") }
            let variants = types.map { t in JSONNode.object(members.map { $0.key == "type" ? ("type", t) : $0 }) }
            return add(ruleName, try union(variants, name: name, depth: depth))
        }
        let typeName: String?
        switch type {
        case nil: typeName = nil
        case let .string(t)?: typeName = t
        default: throw .unsupportedSchema("type must be a string or an array of strings")
        }
        if let value = schema["const"] {
            return add(ruleName, JSONSchemaGrammar.literal(value.serialized) + " space")
        }
        if let values = schema["enum"] {
            guard case let .array(list) = values, !list.isEmpty else { throw .unsupportedSchema("enum must be a non-empty array") }
            guard list.count <= limits.maxAlternatives else {
                throw .tooLarge(limit: "maxAlternatives", reason: "enum has \(list.count) values, more than \(limits.maxAlternatives)")
            }
            return add(ruleName, "(" + list.map { JSONSchemaGrammar.literal($0.serialized) }.joined(separator: " | ") + ") space")
        }
        for key in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] where schema[key] != nil && typeName != "integer" {
            throw .unsupportedSchema("\(key) is supported on integers only")
        }
        let additional = schema["additionalProperties"]
        if typeName == nil || typeName == "object",
           schema["properties"] != nil || (additional != nil && additional != .bool(true)) {
            return add(ruleName, try object(schema, name: name, depth: depth))
        }
        if typeName == nil || typeName == "array", let items = schema["items"] ?? schema["prefixItems"] {
            if case let .array(tuple) = items {
                var parts: [String] = []
                for (i, item) in tuple.enumerated() {
                    parts.append(try visit(item, name: child(name, "tuple-\(i)"), depth: depth + 1))
                }
                return add(ruleName, #""[" space "# + parts.joined(separator: #" "," space "#) + #" "]" space"#)
            }
            let item = try visit(items, name: child(name, "item"), depth: depth + 1)
            let lo = try count(schema["minItems"], "minItems") ?? 0
            let hi = try count(schema["maxItems"], "maxItems")
            if let hi, hi < lo { throw .unsupportedSchema("maxItems is below minItems") }
            let body = JSONSchemaGrammar.repetition(item, min: lo, max: hi, separator: #""," space"#)
            return add(ruleName, #""[" space "# + body + #" "]" space"#)
        }
        if typeName == nil || typeName == "string", let pattern = schema["pattern"] {
            guard case let .string(p) = pattern else { throw .unsupportedSchema("pattern must be a string") }
            let inner = try RegexGrammar.expression(p, limits: limits)
            return add(ruleName, #""\"" "# + inner + #" "\"" space"#)
        }
        if typeName == nil || typeName == "string", case let .string(format)? = schema["format"] {
            if format.hasPrefix("uuid") { return add(ruleName, primitive("uuid")) }
            if ["date", "time", "date-time"].contains(format) { return add(ruleName, primitive(format + "-string")) }
        }
        if typeName == "string", schema["minLength"] != nil || schema["maxLength"] != nil {
            let c = primitive("char")
            let lo = try count(schema["minLength"], "minLength") ?? 0
            let hi = try count(schema["maxLength"], "maxLength")
            if let hi, hi < lo { throw .unsupportedSchema("maxLength is below minLength") }
            return add(ruleName, #""\"" "# + JSONSchemaGrammar.repetition(c, min: lo, max: hi) + #" "\"" space"#)
        }
        if typeName == "integer", schema["minimum"] != nil || schema["maximum"] != nil
            || schema["exclusiveMinimum"] != nil || schema["exclusiveMaximum"] != nil {
            return add(ruleName, try integerRange(schema))
        }
        if members.isEmpty || typeName == "object" { return add(ruleName, primitive("object")) }
        guard let typeName else { return add(ruleName, primitive("value")) }
        guard ["boolean", "number", "integer", "string", "null", "array"].contains(typeName) else {
            throw .unsupportedSchema("unknown type \"\(typeName)\"")
        }
        return name == "root" ? add("root", primitive(typeName)) : primitive(typeName)
    }

    mutating func union(_ list: [JSONNode], name: String, depth: Int) throws(GrammarError) -> String {
        guard list.count <= limits.maxAlternatives else {
            throw .tooLarge(limit: "maxAlternatives", reason: "\(list.count) alternatives, more than \(limits.maxAlternatives)")
        }
        var parts: [String] = []
        for (i, s) in list.enumerated() {
            parts.append(try visit(s, name: name == "root" ? "alternative-\(i)" : "\(name)-\(i)", depth: depth + 1))
        }
        return parts.joined(separator: " | ")
    }

    mutating func resolve(_ ref: String, depth: Int) throws(GrammarError) -> String {
        if let known = refNames[ref] { return known }
        guard ref.hasPrefix("#") else { throw .unsupportedSchema("only local $ref (#/...) is supported, got \(ref)") }
        var target = root
        for raw in ref.dropFirst().split(separator: "/", omittingEmptySubsequences: true) {
            let part = Self.unescapePointer(String(raw))
            switch target {
            case .object:
                guard let next = target[part] else { throw .unsupportedSchema("$ref \(ref) does not resolve") }
                target = next
            case let .array(items):
                guard let i = Int(part), items.indices.contains(i) else { throw .unsupportedSchema("$ref \(ref) does not resolve") }
                target = items[i]
            default:
                throw .unsupportedSchema("$ref \(ref) does not resolve")
            }
        }
        let last = ref.split(separator: "/").last.map(String.init) ?? "ref"
        var name = "ref-" + Self.sanitize(last)
        var i = 0
        while rules[name] != nil || refNames.values.contains(name) {
            i += 1
            name = "ref-\(Self.sanitize(last))\(i)"
        }
        refNames[ref] = name
        resolving.insert(ref)
        let body = try visit(target, name: name + "-def", depth: depth + 1)
        resolving.remove(ref)
        define(name, body)
        return name
    }

    /// A JSON pointer segment with `~1` and `~0` unescaped.
    static func unescapePointer(_ segment: String) -> String {
        var out = ""
        var tilde = false
        for ch in segment {
            if tilde {
                out.append(ch == "1" ? "/" : ch == "0" ? "~" : ch)
                tilde = false
            } else if ch == "~" {
                tilde = true
            } else {
                out.append(ch)
            }
        }
        return out
    }

    mutating func object(_ schema: JSONNode, name: String, depth: Int) throws(GrammarError) -> String {
        var required: Set<String> = []
        if case let .array(list)? = schema["required"] {
            for case let .string(s) in list { required.insert(s) }
        }
        var kv: [String: String] = [:]
        var requiredNames: [String] = [], optionalNames: [String] = []
        var properties: [(key: String, value: JSONNode)] = []
        if let p = schema["properties"] {
            guard case let .object(list) = p else { throw .unsupportedSchema("properties must be an object") }
            properties = list
        }
        for (key, value) in properties {
            let valueRule = try visit(value, name: child(name, key), depth: depth + 1)
            kv[key] = add(child(name, key) + "-kv", JSONSchemaGrammar.literal(JSONNode.string(key).serialized) + #" space ":" space "# + valueRule)
            if required.contains(key) { requiredNames.append(key) } else { optionalNames.append(key) }
        }
        let additional = schema["additionalProperties"]
        let allowsMore: Bool
        switch additional {
        case .bool(true)?, .object?: allowsMore = true
        default: allowsMore = false
        }
        if allowsMore {
            let sub = child(name, "additional")
            let valueRule: String
            if case .object? = additional, let a = additional {
                valueRule = try visit(a, name: sub + "-value", depth: depth + 1)
            } else {
                valueRule = primitive("value")
            }
            let keyRule = properties.isEmpty ? primitive("string") : add(sub + "-k", notStrings(properties.map(\.key)))
            kv["*"] = add(sub + "-kv", keyRule + #" ":" space "# + valueRule)
            optionalNames.append("*")
        }
        var rule = #""{" space "#
        rule += requiredNames.compactMap { kv[$0] }.joined(separator: #" "," space "#)
        if !optionalNames.isEmpty {
            rule += " ("
            if !requiredNames.isEmpty { rule += #" "," space ( "# }
            var options: [String] = []
            for i in optionalNames.indices {
                options.append(recursiveRefs(Array(optionalNames[i...]), firstIsOptional: false, kv: kv, name: name))
            }
            rule += options.joined(separator: " | ")
            if !requiredNames.isEmpty { rule += " )" }
            rule += " )?"
        }
        return rule + #" "}" space"#
    }

    /// llama.cpp's `get_recursive_refs`: the optional properties `keys` in order, any subset.
    mutating func recursiveRefs(_ keys: [String], firstIsOptional: Bool, kv: [String: String], name: String) -> String {
        guard let k = keys.first, let rule = kv[k] else { return "" }
        let comma = #"( "," space "# + rule + " )"
        var result = firstIsOptional ? comma + (k == "*" ? "*" : "?") : rule + (k == "*" ? " " + comma + "*" : "")
        if keys.count > 1 {
            let rest = recursiveRefs(Array(keys.dropFirst()), firstIsOptional: true, kv: kv, name: name)
            result += " " + add(child(name, k) + "-rest", rest)
        }
        return result
    }

    /// A JSON string other than the given ones (llama.cpp's `_not_strings`), for additional keys.
    mutating func notStrings(_ strings: [String]) -> String {
        // A trie of the (JSON-escaped) keys: at each node, any character that leaves the trie, or
        // the end of the string when the node is not a key's end.
        final class Node {
            var children: [(Character, Node)] = []
            var isEnd = false
        }
        let top = Node()
        for s in strings {
            var node = top
            for ch in JSONNode.string(s).serialized.dropFirst().dropLast() {
                if let next = node.children.first(where: { $0.0 == ch })?.1 { node = next } else {
                    let next = Node()
                    node.children.append((ch, next))
                    node = next
                }
            }
            node.isEnd = true
        }
        let c = primitive("char")
        func visit(_ node: Node) -> String {
            var parts: [String] = []
            for (ch, next) in node.children {
                parts.append(JSONSchemaGrammar.literal(String(ch)) + " " + visit(next))
            }
            let excluded = node.children.map { String($0.0) }.map(escapeInClass).joined()
            parts.append(#"[^"\\\x7F\x00-\x1F"# + excluded + "] " + c + "*")
            var out = "(" + parts.joined(separator: " | ") + ")"
            if !node.isEnd { out = "(" + out + " | \"\")" }
            return out
        }
        // The key continues after a prefix only through `char`, so a key of the same prefix that
        // differs stays a valid JSON string.
        return "\"\\\"\" " + visit(top) + " \"\\\"\" space"
    }

    func escapeInClass(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\\", "]", "-", "^", "\"": out += "\\" + String(u)
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// An integer between bounds, as the alternatives of its values (small ranges only).
    func integerRange(_ schema: JSONNode) throws(GrammarError) -> String {
        func bound(_ key: String) throws(GrammarError) -> Int? {
            guard let v = schema[key] else { return nil }
            guard case let .number(t) = v, let n = Int(t) else { throw .unsupportedSchema("\(key) must be an integer") }
            return n
        }
        var lo = try bound("minimum")
        if lo == nil, let e = try bound("exclusiveMinimum") { lo = e + 1 }
        var hi = try bound("maximum")
        if hi == nil, let e = try bound("exclusiveMaximum") { hi = e - 1 }
        guard let lo, let hi, hi >= lo, hi - lo < 1024 else {
            throw .unsupportedSchema("integer bounds are supported for ranges of at most 1,024 values with both ends given")
        }
        return "(" + (lo ... hi).map { "\"\($0)\"" }.joined(separator: " | ") + ") space"
    }
}
