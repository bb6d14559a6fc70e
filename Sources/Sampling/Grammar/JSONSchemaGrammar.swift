/// Compiles a JSON schema to a GBNF grammar with the semantics of llama.cpp's
/// `json-schema-to-grammar`: the same primitive rules, the same whitespace (`space ::= | " " |
/// "\n"{1,2} [ \t]{0,20}` after every value, none before the first), properties in the schema's
/// order with the required ones first, and no properties beyond `properties` unless
/// `additionalProperties` is `true` or a schema.
///
/// Supported: `type` (one or an array of them), `properties`, `required`, `additionalProperties`,
/// `enum`, `const`, `items` (a schema, or an array for tuples) and `prefixItems`, `minItems`,
/// `maxItems`, `minLength`, `maxLength`, `pattern` (``RegexGrammar``), `format` `uuid`, `date`,
/// `time`, `date-time`, `anyOf`, `oneOf`, `$ref` to `#/...` pointers (`$defs`, `definitions`,
/// recursive ones included), and integer `minimum`/`maximum` when the range has at most 1,024
/// values. Anything else that would constrain the value (`allOf`, `not`, number bounds,
/// `multipleOf`, `minProperties`, ...) is refused, so an output never silently breaks the schema.
public enum JSONSchemaGrammar {
    /// The GBNF text for `schema`.
    public static func gbnf(for schema: JSONNode, limits: GrammarLimits = .init()) throws(GrammarError) -> String {
        var converter = SchemaConverter(root: schema, limits: limits)
        let top = try converter.visit(schema, name: "root", depth: 0)
        if top != "root" { converter.define("root", top) }
        return converter.text
    }

    /// `schema` compiled.
    public static func compile(_ schema: JSONNode, limits: GrammarLimits = .init()) throws(GrammarError) -> CompiledGrammar {
        try CompiledGrammar(gbnf: try gbnf(for: schema, limits: limits), limits: limits)
    }

    /// Any JSON object (OpenAI's `{"type": "json_object"}`), as llama.cpp's `object` rule.
    public static func anyObject(limits: GrammarLimits = .init()) throws(GrammarError) -> CompiledGrammar {
        try compile(.object([("type", .string("object"))]), limits: limits)
    }

    static let space = #"| " " | "\n"{1,2} [ \t]{0,20}"#

    static let primitives: [String: (body: String, dependencies: [String])] = [
        "boolean": (#"("true" | "false") space"#, []),
        "decimal-part": ("[0-9]{1,16}", []),
        "integral-part": ("[0] | [1-9] [0-9]{0,15}", []),
        "number": (#"("-"? integral-part) ("." decimal-part)? ([eE] [-+]? integral-part)? space"#, ["integral-part", "decimal-part"]),
        "integer": (#"("-"? integral-part) space"#, ["integral-part"]),
        "value": ("object | array | string | number | boolean | null", ["object", "array", "string", "number", "boolean", "null"]),
        "object": (#""{" space ( string ":" space value ("," space string ":" space value)* )? "}" space"#, ["string", "value"]),
        "array": (#""[" space ( value ("," space value)* )? "]" space"#, ["value"]),
        "uuid": (#""\"" [0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12} "\"" space"#, []),
        "char": (#"[^"\\\x7F\x00-\x1F] | [\\] (["\\bfnrt] | "u" [0-9a-fA-F]{4})"#, []),
        "string": (#""\"" char* "\"" space"#, ["char"]),
        "null": (#""null" space"#, []),
        "date": (#"[0-9]{4} "-" ( "0" [1-9] | "1" [0-2] ) "-" ( "0" [1-9] | [1-2] [0-9] | "3" [0-1] )"#, []),
        "time": (#"([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{3} )? ( "Z" | ( "+" | "-" ) ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] )"#, []),
        "date-time": (#"date "T" time"#, ["date", "time"]),
        "date-string": (#""\"" date "\"" space"#, ["date"]),
        "time-string": (#""\"" time "\"" space"#, ["time"]),
        "date-time-string": (#""\"" date-time "\"" space"#, ["date-time"]),
    ]

    /// `literal` as a GBNF string literal.
    static func literal(_ text: String) -> String {
        var out = "\""
        for u in text.unicodeScalars {
            switch u {
            case "\r": out += "\\r"
            case "\n": out += "\\n"
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// llama.cpp's `build_repetition`: `item` `min` to `max` times (`nil`: unbounded), separated by
    /// `separator` when given.
    static func repetition(_ item: String, min: Int, max: Int?, separator: String = "") -> String {
        if max == 0 { return "" }
        if min == 0, max == 1 { return item + "?" }
        if separator.isEmpty {
            if min == 1, max == nil { return item + "+" }
            if min == 0, max == nil { return item + "*" }
            return item + "{\(min),\(max.map(String.init) ?? "")}"
        }
        let rest = repetition("(" + separator + " " + item + ")", min: min == 0 ? 0 : min - 1, max: max.map { $0 - 1 })
        let result = item + " " + rest
        return min == 0 ? "(" + result + ")?" : result
    }
}
