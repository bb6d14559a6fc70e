import FuzzDriver
import Jinja

/// Budgets for the harness: the defaults' shapes, with a step budget a debug ASan build gets
/// through in well under a second, so that hostile loops cost little fuzzing time. A template that
/// exhausts it ends in `TemplateError.limitExceeded`, like one that exhausts the defaults.
let limits = TemplateLimits(maxSteps: 100_000, maxOutputBytes: 1 << 20, maxValueSize: 1 << 20)

/// A fixed conversation with every role, and text that exercises escaping and Unicode, in the
/// variables a chat template is rendered with.
let context: [String: TemplateValue] = [
    "messages": [
        ["role": "system", "content": "You are terse."],
        ["role": "user", "content": "Hi! \"quotes\" <tags> {{ braces }} \u{00e9}\u{1F600}"],
        ["role": "assistant", "content": "Hello."],
        ["role": "user", "content": "Again\n\twith whitespace  "],
    ],
    "bos_token": "<s>", "eos_token": "</s>", "tools": nil, "documents": nil,
]

/// One input: the source of a template. Parses it and, when it parses, renders the fixed
/// conversation with and without the generation prompt.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTemplate(_ data: UnsafeRawPointer?, _ size: Int) -> CInt {
    let source = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
    guard let template = try? Template(source: source, limits: limits) else { return 0 }
    var sink = 0
    for prompt in [true, false] {
        var variables = context
        variables["add_generation_prompt"] = .bool(prompt)
        let out = try? template.render(variables)
        sink &+= out?.utf8.count ?? 0
    }
    blackHole(sink)
    return 0
}

/// Keeps the work above from being optimised away.
@inline(never) func blackHole(_ x: Int) { if x == -0x5eed { print(x) } }

/// The entry point SwiftPM's link names (`main` is an alias of `<Module>_main`): libFuzzer's driver
/// over the same function as `LLVMFuzzerTestOneInput`.
@_cdecl("FuzzTemplate_main")
public func fuzzTemplateMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    sparrow_fuzz_main(argc, argv) { data, size in fuzzTemplate(UnsafeRawPointer(data), size) }
}
