/// A runtime value inside the interpreter: Python's types as jinja2 sees them, plus jinja2's own
/// objects (`Undefined`, `loop`, namespaces, macros). Reference types (namespace) are classes, so
/// `{% set ns.x = ... %}` is seen through every scope that holds the namespace.
enum Value {
    case undefined(Undefined)
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([Value])
    case tuple([Value])
    case dict(Dict)
    case namespace(Namespace)
    /// `range(start, stop, step)`, never materialised unless a filter asks for a list.
    case range(start: Int, stop: Int, step: Int)
    case loop(LoopState)
    case macro(Macro)
    case function(Builtin)
    /// `receiver.name` for a method of a string, dict or list, called later.
    indirect case method(Value, String)
    /// `d.items()`, `d.keys()`, `d.values()`: Python prints them as `dict_items([...])`.
    case dictView(String, [Value])
}

/// jinja2's default `Undefined`: prints as "", is falsy, iterates as empty; anything more raises
/// `UndefinedError` with this message.
struct Undefined {
    let message: String

    static func name(_ name: String) -> Undefined { Undefined(message: "'\(name)' is undefined") }

    /// jinja2's hint for a missing attribute (string key) or element (other key) of `object`.
    static func member(of object: Value, key: Value) -> Undefined {
        if case let .string(s) = key {
            return Undefined(message: "'\(object.typeObjectName)' has no attribute \(Python.repr(.string(s)))")
        }
        return Undefined(message: "\(object.typeObjectName) has no element \(Python.repr(key))")
    }
}

/// A string compared, hashed and ordered by code points, as Python does. Swift's `String` equality
/// is canonical equivalence, under which two different dict keys could collide.
struct ExactString: Hashable {
    let string: String
    init(_ s: String) { string = s }
    static func == (a: ExactString, b: ExactString) -> Bool { a.string.utf8.elementsEqual(b.string.utf8) }
    func hash(into h: inout Hasher) {
        h.combine(string.utf8.count)
        for b in string.utf8 { h.combine(b) }
    }
}

/// A dict key in Python's sense: `1`, `1.0` and `True` are the same key.
enum DictKey: Hashable {
    case none
    case int(Int)
    case float(Double)
    case string(ExactString)

    init?(_ v: Value) {
        switch v {
        case .none: self = .none
        case let .bool(b): self = .int(b ? 1 : 0)
        case let .int(i): self = .int(i)
        case let .float(d):
            if d.rounded() == d, abs(d) < 9.2e18 { self = .int(Int(d)) } else { self = .float(d) }
        case let .string(s): self = .string(ExactString(s))
        default: return nil
        }
    }
}

/// An insertion-ordered dict, as Python's.
struct Dict {
    private(set) var keys: [Value] = []
    private(set) var values: [Value] = []
    private var index: [DictKey: Int] = [:]

    var count: Int { keys.count }

    /// Sets `key` (keeping its first position when it exists). Returns false for an unhashable key.
    @discardableResult
    mutating func set(_ key: Value, _ value: Value) -> Bool {
        guard let k = DictKey(key) else { return false }
        if let i = index[k] {
            values[i] = value
        } else {
            index[k] = keys.count
            keys.append(key)
            values.append(value)
        }
        return true
    }

    func get(_ key: Value) -> Value? {
        guard let k = DictKey(key), let i = index[k] else { return nil }
        return values[i]
    }

    func get(_ key: String) -> Value? { get(.string(key)) }

    var items: [Value] { zip(keys, values).map { .tuple([$0, $1]) } }
}

/// `namespace(...)`: the one mutable object templates have.
final class Namespace {
    var attributes = Dict()
}

/// The `loop` variable of a for loop, a snapshot for one iteration (a class, so a `Value` stays small).
final class LoopState {
    let index0: Int
    let length: Int
    let items: [Value]
    let depth: Int

    init(index0: Int, length: Int, items: [Value], depth: Int) {
        self.index0 = index0
        self.length = length
        self.items = items
        self.depth = depth
    }

    func attribute(_ name: String) -> Value? {
        switch name {
        case "index0": return .int(index0)
        case "index": return .int(index0 + 1)
        case "revindex": return .int(length - index0)
        case "revindex0": return .int(length - index0 - 1)
        case "first": return .bool(index0 == 0)
        case "last": return .bool(index0 == length - 1)
        case "length": return .int(length)
        case "depth": return .int(depth)
        case "depth0": return .int(depth - 1)
        case "previtem":
            return index0 > 0 ? items[index0 - 1] : .undefined(Undefined(message: "there is no previous item"))
        case "nextitem":
            return index0 + 1 < length ? items[index0 + 1] : .undefined(Undefined(message: "there is no next item"))
        case "cycle": return .method(.loop(self), "cycle")
        default: return nil
        }
    }
}

/// A macro with the scope it was defined in (macros see the template's variables).
final class Macro {
    let definition: MacroDefinition
    let scope: Scope
    init(definition: MacroDefinition, scope: Scope) {
        self.definition = definition
        self.scope = scope
    }
}

/// The global functions Hugging Face's environment provides.
enum Builtin: String {
    case range, namespace, dict
    case raiseException = "raise_exception"
    case strftimeNow = "strftime_now"
}

extension Value {
    /// jinja2's `object_type_repr`: "dict object", "list object", ...
    var typeObjectName: String {
        if case .none = self { return "None" }
        return "\(pythonTypeName) object"
    }

    /// Python's `type(x).__name__`.
    var pythonTypeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .range: return "range"
        case .loop: return "LoopContext"
        case .macro: return "Macro"
        case .function: return "function"
        case .method: return "builtin_function_or_method"
        case let .dictView(kind, _): return "dict_\(kind)"
        }
    }

    /// Python truthiness.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case let .bool(b): return b
        case let .int(i): return i != 0
        case let .float(d): return d != 0
        case let .string(s): return !s.isEmpty
        case let .list(a), let .tuple(a): return !a.isEmpty
        case let .dictView(_, a): return !a.isEmpty
        case let .dict(d): return d.count > 0
        case let .range(start, stop, step): return Python.rangeCount(start, stop, step) > 0
        case .namespace, .loop, .macro, .function, .method: return true
        }
    }

    /// A tuple of hashable values is hashable in Python; lists, dicts and namespaces-as-values are not.
    var isHashableContainer: Bool {
        if case let .tuple(a) = self { return a.allSatisfy { DictKey($0) != nil || $0.isHashableContainer } }
        return false
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }
}
