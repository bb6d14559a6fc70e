/// Budgets that make a hostile template fail with `TemplateError.limitExceeded` instead of hanging,
/// exhausting memory or overflowing the stack. The defaults are far above what real chat templates
/// need (a 1000-message conversation through Llama 3's template takes under 50 000 steps; the
/// whole default step budget is about one second of CPU in a release build).
public struct TemplateLimits: Sendable, Equatable {
    /// Which budget ran out.
    public enum Limit: String, Sendable, Equatable {
        /// `maxSourceBytes`.
        case sourceBytes
        /// `maxSteps`.
        case steps
        /// `maxOutputBytes`.
        case outputBytes
        /// `maxNestingDepth` (parsing) or `maxValueDepth` (values).
        case nesting
        /// `maxCallDepth` or `maxEvaluationDepth`.
        case recursion
        /// `maxValueSize`, an integer that does not fit in 64 bits, or jinja2's sandbox range limit
        /// (100 000 elements).
        case valueSize
    }

    /// Largest template source accepted, in UTF-8 bytes.
    public var maxSourceBytes: Int
    /// Evaluation steps per render: every statement, expression node, loop iteration and filter
    /// call costs one, and building a string or list also costs one per 64 bytes or per element.
    public var maxSteps: Int
    /// Bytes a render may emit in total (including text captured by `{% set %}` blocks and macros).
    public var maxOutputBytes: Int
    /// Deepest nesting the parser accepts: blocks inside blocks, parentheses, brackets, and the depth
    /// of any expression tree (a chain of 1000 `+` is 1000 deep).
    public var maxNestingDepth: Int
    /// Deepest chain of macro calls inside macro calls.
    public var maxCallDepth: Int
    /// Deepest recursion of the interpreter: nested statements, expressions and macro calls
    /// together. Rendering runs on a thread with a 256 MiB stack reservation, far more than this
    /// depth needs even in a debug build.
    public var maxEvaluationDepth: Int
    /// Deepest nesting of values a template builds (lists in lists, namespaces in namespaces).
    public var maxValueDepth: Int
    /// Largest string (in UTF-8 bytes) or list (in elements) a render may build, checked before
    /// building it (`'a' * 10**9` fails at once).
    public var maxValueSize: Int

    /// Ceilings on the three depth limits, whatever the fields are set to: the render thread's
    /// 256 MiB stack holds this much recursion even in a debug build.
    public static let nestingCeiling = 256, evaluationCeiling = 8000, valueDepthCeiling = 1024

    var nesting: Int { min(maxNestingDepth, Self.nestingCeiling) }
    var evaluation: Int { min(maxEvaluationDepth, Self.evaluationCeiling) }
    var valueDepth: Int { min(maxValueDepth, Self.valueDepthCeiling) }

    /// Defaults: 1 MiB of source, 5 million steps, 16 MiB of output, nesting 64, 32 macro calls
    /// deep, 2000 evaluation levels, values 128 deep, strings and lists of 16 Mi bytes or elements.
    public init(maxSourceBytes: Int = 1 << 20, maxSteps: Int = 5_000_000, maxOutputBytes: Int = 16 << 20,
                maxNestingDepth: Int = 64, maxCallDepth: Int = 32, maxEvaluationDepth: Int = 2000, maxValueDepth: Int = 128,
                maxValueSize: Int = 16 << 20) {
        self.maxSourceBytes = maxSourceBytes
        self.maxSteps = maxSteps
        self.maxOutputBytes = maxOutputBytes
        self.maxNestingDepth = maxNestingDepth
        self.maxCallDepth = maxCallDepth
        self.maxEvaluationDepth = maxEvaluationDepth
        self.maxValueDepth = maxValueDepth
        self.maxValueSize = maxValueSize
    }
}
