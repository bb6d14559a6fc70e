import Foundation
import Testing
import Jinja
import SparrowTestSupport

/// Templates written to hang, exhaust memory or overflow the stack end in a specific typed error,
/// quickly (each under a second in a debug build on an idle machine; the bound asserted is looser).
/// Bounds are on the test thread's CPU time, which the other suites' load on the shared cores does
/// not inflate.
@Suite("Jinja: hostile templates")
struct HostileTemplateTests {
    func expectLimit(_ limit: TemplateLimits.Limit, _ source: String, limits: TemplateLimits = .init(),
                     sourceLocation: SourceLocation = #_sourceLocation) {
        let start = ThreadCPUClock.now
        do {
            let out = try Template(source: source, limits: limits).render([:])
            Issue.record("rendered \(out.utf8.count) bytes instead of failing", sourceLocation: sourceLocation)
        } catch let TemplateError.limitExceeded(l, _) {
            #expect(l == limit, sourceLocation: sourceLocation)
        } catch {
            Issue.record("threw \(error), expected the \(limit) limit", sourceLocation: sourceLocation)
        }
        let elapsed = ThreadCPUClock.now - start
        #expect(elapsed < TimeScale.seconds(10), "took \(elapsed)", sourceLocation: sourceLocation)
    }

    /// A smaller step budget than the default keeps these quick in debug builds; the default
    /// (5 million) is the same mechanism, tested once below.
    static let small = TemplateLimits(maxSteps: 200_000)

    @Test("endless work runs out of steps")
    func steps() {
        expectLimit(.steps, "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", limits: Self.small)
        expectLimit(.steps, "{% for a in range(100000) %}{% for b in range(100000) %}{{ '' }}{% endfor %}{% endfor %}", limits: Self.small)
        expectLimit(.steps, "{% set ns = namespace(x=0) %}{% for a in range(100000) %}{% for b in range(100000) %}{% set ns.x = ns.x + 1 %}{% endfor %}{% endfor %}", limits: Self.small)
        expectLimit(.steps, "{% for a in range(100000) %}{{ ['x'] * 100000 }}{% endfor %}", limits: Self.small)
        expectLimit(.steps, "{% for a in range(100000) %}{{ range(100000) | join }}{% endfor %}", limits: Self.small)
    }

    @Test("work hidden in one operation on a large value is charged: length, search, comparison, sort, unique")
    func hiddenWork() {
        expectLimit(.steps, "{% set big = 'x' * 4000000 %}{% for i in range(100000) %}{{ big | length }}{% endfor %}", limits: Self.small)
        // Linear search: a naive one would take 10^11 byte comparisons on the first iteration.
        expectLimit(.steps, "{% set big = 'a' * 1000000 %}{% set needle = 'a' * 500000 ~ 'b' %}{% for i in range(100000) %}{{ needle in big }}{% endfor %}",
                    limits: Self.small)
        expectLimit(.steps, "{% set l = range(100000) | list %}{% for i in range(100000) %}{{ 99999 in l }}{% endfor %}", limits: Self.small)
        expectLimit(.steps, "{% set l = [range(50000) | list] * 4 %}{% for i in range(100000) %}{{ l == l }}{% endfor %}", limits: Self.small)
        expectLimit(.steps, "{% for i in range(100000) %}{{ range(100000) | list | sort | length }}{% endfor %}", limits: Self.small)
        expectLimit(.steps, "{% for i in range(100000) %}{{ range(100000) | list | unique | list | length }}{% endfor %}", limits: Self.small)
        expectLimit(.steps, "{% set big = 'a' * 1000000 %}{% for i in range(100000) %}{{ big.rfind('a') }}{{ big[0] }}{{ big[1:2] }}{% endfor %}", limits: Self.small)
        expectLimit(.steps, "{% set d = {} %}{% set k = 'k' * 4000000 %}{% for i in range(100000) %}{{ d[k] }}{% endfor %}", limits: Self.small)
    }

    @Test("the default step budget ends an endless template", .timeLimit(.minutes(Int(TimeScale.factor.rounded(.up)))))
    func defaultSteps() {
        let start = ThreadCPUClock.now
        do {
            _ = try Template(source: "{% for a in range(100000) %}{{ range(100000) | list | length }}{% endfor %}").render([:])
            Issue.record("rendered")
        } catch {
            #expect(error == .limitExceeded(limit: .steps, message: "the template ran for more than 5000000 steps"))
        }
        #expect(ThreadCPUClock.now - start < TimeScale.seconds(30))
    }

    @Test("output beyond the byte budget")
    func output() {
        expectLimit(.outputBytes, "{% for a in range(100000) %}{{ 'x' * 1000 }}{% endfor %}")
        expectLimit(.outputBytes, "{% for a in range(10) %}{{ 'x' * 1000 }}{% endfor %}", limits: TemplateLimits(maxOutputBytes: 5000))
    }

    @Test("huge values are refused before they are built")
    func values() {
        expectLimit(.valueSize, "{{ 'a' * 10**9 }}")
        expectLimit(.valueSize, "{{ 'a' * 10**18 * 10 }}")
        expectLimit(.valueSize, "{{ [1] * 10**12 }}")
        expectLimit(.valueSize, "{{ range(10**12) | length }}")
        expectLimit(.valueSize, "{% for i in range(10**12) %}{% endfor %}")
        expectLimit(.valueSize, "{{ 99999999999999999999999999 }}")
        expectLimit(.valueSize, "{{ 2 ** 64 }}")
        expectLimit(.valueSize, "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}")
        expectLimit(.valueSize, "{% set ns = namespace(s='abcdefgh') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}")
        expectLimit(.valueSize, "{{ ('x' * 1000000) | replace('x', 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy') }}")
        expectLimit(.valueSize, "{{ ['x' * 1000000] * 100 }}")
        expectLimit(.valueSize, "{{ 'x' | indent(10**12) }}")
    }

    @Test("deep nesting is refused by the parser")
    func nesting() {
        expectLimit(.nesting, "{{ " + String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000) + " }}")
        expectLimit(.nesting, "{{ " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + " }}")
        expectLimit(.nesting, "{{ 1" + String(repeating: " + 1", count: 100_000) + " }}")
        expectLimit(.nesting, "{{ x" + String(repeating: ".a", count: 100_000) + " }}")
        expectLimit(.nesting, "{{ x" + String(repeating: "|trim", count: 100_000) + " }}")
        expectLimit(.nesting, "{{ " + String(repeating: "not ", count: 100_000) + "x }}")
        expectLimit(.nesting, "{{ " + String(repeating: "-", count: 100_000) + "1 }}")
        expectLimit(.nesting, String(repeating: "{% if true %}", count: 10_000) + String(repeating: "{% endif %}", count: 10_000))
        expectLimit(.nesting, String(repeating: "{% for x in y %}", count: 10_000))
    }

    @Test("deeply nested values and self-containing namespaces are refused")
    func valueDepth() {
        expectLimit(.nesting, "{% set ns = namespace(x=1) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}")
        expectLimit(.nesting, "{% set ns = namespace() %}{% set ns.self = ns %}{{ ns }}")
        expectLimit(.nesting, "{% set ns = namespace(c=none) %}{% for i in range(100000) %}{% set n = namespace(next=ns.c) %}{% set ns.c = n %}{% endfor %}")
    }

    @Test("recursive macros hit the call depth")
    func recursion() {
        expectLimit(.recursion, "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
        expectLimit(.recursion, "{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}")
        // With the macro bound lifted, the interpreter's own depth bound ends it, without a stack overflow.
        expectLimit(.recursion, "{% macro f(n) %}{{ [[[[[[[[f(n + 1)]]]]]]]] }}{% endmacro %}{{ f(0) }}",
                    limits: TemplateLimits(maxCallDepth: 100_000))
        expectLimit(.recursion, "{% macro f(n) %}" + String(repeating: "{% if true %}", count: 30) + "{{ [[[[[[[[[[f(n + 1)]]]]]]]]]] }}"
                    + String(repeating: "{% endif %}", count: 30) + "{% endmacro %}{{ f(0) }}")
        // Wide recursion (two calls per level) runs out of steps rather than depth.
        expectLimit(.steps, "{% macro f(n) %}{% if n < 30 %}{{ f(n + 1) }}{{ f(n + 1) }}{% endif %}{% endmacro %}{{ f(0) }}", limits: Self.small)
    }

    @Test("oversized sources are refused before lexing")
    func source() {
        expectLimit(.sourceBytes, String(repeating: "x", count: 2 << 20))
    }

    @Test("unclosed tags and blocks are syntax errors")
    func unclosed() {
        for source in ["{% if x %}", "{% for x in y %}", "{{ x", "{% if x", "{# x", "{{ 'abc }}", "{% macro f() %}",
                       "{% set x %}", "{{ (1 }}", "{{ [1 }}", "{% endif %}", "{% else %}", "{{ }}", "{{ 1 2 }}"] {
            #expect(throws: TemplateError.self, "\(source)") { try Template(source: source) }
            do { _ = try Template(source: source) } catch {
                if case .syntax = error {} else { Issue.record("\(source): \(error)") }
            }
        }
    }

    @Test("undefined values fail like jinja2's Undefined, not with a crash")
    func undefinedUse() {
        for source in ["{{ x.y }}", "{{ x[0] }}", "{{ x() }}", "{{ x + 1 }}", "{{ -x }}", "{{ x < 1 }}", "{{ x | tojson }}"] {
            do {
                _ = try Template(source: source).render([:])
                Issue.record("\(source) rendered")
            } catch {
                switch error {
                case .undefined, .type: break
                default: Issue.record("\(source): \(error)")
                }
            }
        }
    }
}

@Suite("Jinja: depth ceilings")
struct DepthCeilingTests {
    @Test("depth limits set far too high are held to the ceilings the render stack allows")
    func ceilings() {
        let loose = TemplateLimits(maxNestingDepth: 1_000_000, maxCallDepth: 1_000_000, maxEvaluationDepth: 1_000_000,
                                   maxValueDepth: 1_000_000)
        do {
            _ = try Template(source: "{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}", limits: loose)
            Issue.record("parsed")
        } catch {
            #expect(error == .limitExceeded(limit: .nesting, message: "nesting deeper than 256 at line 1"))
        }
        do {
            _ = try Template(source: "{% macro f(n) %}{{ [[[[[[[[f(n + 1)]]]]]]]] }}{% endmacro %}{{ f(0) }}", limits: loose).render([:])
            Issue.record("rendered")
        } catch {
            #expect(error == .limitExceeded(limit: .recursion, message: "evaluation nested deeper than 8000 levels"))
        }
        do {
            _ = try Template(source: "{% set ns = namespace(x=1) %}{% for i in range(5000) %}{% set ns.x = [ns.x] %}{% endfor %}", limits: loose)
                .render([:])
            Issue.record("rendered")
        } catch {
            #expect(error == .limitExceeded(limit: .nesting, message: "a value nested deeper than 1024 levels"))
        }
    }
}
