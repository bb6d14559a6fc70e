/// Why a template could not be found, parsed or rendered. Every case carries the text a user needs
/// to find the problem (and a syntax error its position); `description` prints it.
public enum TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The template source is not valid Jinja (or uses a tag this interpreter does not support).
    /// `line` and `column` are 1-based and point into the source.
    case syntax(message: String, line: Int, column: Int)
    /// The template called `raise_exception(message)`, as chat templates do for invalid conversations.
    case raised(message: String)
    /// An undefined value was used in a way jinja2's default `Undefined` refuses (an attribute or item
    /// of it, arithmetic, a call). The message is jinja2's, e.g. `'x' is undefined` or
    /// `'dict object' has no attribute 'role'`.
    case undefined(message: String)
    /// An operation on values of the wrong type, e.g. `1 + 'a'` or iterating over an integer.
    case type(message: String)
    /// Any other failure while rendering: a missing filter, division by zero, a wrong argument.
    case runtime(message: String)
    /// A budget of `TemplateLimits` ran out; `limit` names it.
    case limitExceeded(limit: TemplateLimits.Limit, message: String)
    /// There is no template to parse, or it could not be read: jinja2's `TemplateNotFound`. This
    /// module never throws it itself; code that looks templates up (in files, in model metadata)
    /// does, so that every template failure is one type.
    case templateNotFound(message: String)

    /// The message, prefixed with what kind of error it is (a `raised` message is the template's own).
    public var description: String {
        switch self {
        case let .syntax(message, line, column): return "template syntax error at line \(line), column \(column): \(message)"
        case let .raised(message): return message
        case let .undefined(message): return "undefined value: \(message)"
        case let .type(message): return "type error: \(message)"
        case let .runtime(message): return "template error: \(message)"
        case let .limitExceeded(limit, message): return "template limit exceeded (\(limit.rawValue)): \(message)"
        case let .templateNotFound(message): return message
        }
    }
}
