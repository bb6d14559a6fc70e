#!/usr/bin/env python3
"""Writes the jinja2 reference renders for Sparrow's chat-template interpreter.

Run with the fixtures venv (jinja2 3.1.6):

    ~/.cache/sparrow/fixtures-venv/bin/python Fixtures/templates/make_template_expectations.py

Outputs, next to this script:
  conversations.json  every conversation below through every model template (*.jinja), with
                      add_generation_prompt true and false: the rendered string or the raised message.
  features.json       small templates exercising one feature each (whitespace control, scoping,
                      filters, tests, errors), with their variables and jinja2's output or error.

The environment is built exactly as transformers' `_compile_jinja_template` builds it
(ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with the loopcontrols
extension, raise_exception, transformers' tojson, strftime_now, namespace, dict), and the variables
are the ones `render_jinja_template` passes (messages, tools=None, documents=None,
add_generation_prompt, bos_token, eos_token). When transformers is importable, every conversation
render is also checked against transformers' own compiled template.
"""
import json
import os
import platform
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))


class GenerationTag(jinja2.ext.Extension):
    """transformers' AssistantTracker without the tracking: `{% generation %}` renders its body
    through a CallBlock, as transformers parses it."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        # transformers' filter: json.dumps without jinja2's HTML escaping.
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["namespace"] = jinja2.utils.Namespace
    env.globals["dict"] = dict
    return env


ENV = make_environment()

# Model templates: file name -> (bos_token, eos_token) as the models' tokenizer configs give them.
TEMPLATES = {
    "tinyllama": ("<s>", "</s>"),                         # TinyLlama/TinyLlama-1.1B-Chat-v1.0
    "phi3-2024-05": ("<s>", "<|endoftext|>"),             # microsoft/Phi-3-mini-4k-instruct, May 2024
    "phi3-2024-07": ("<s>", "<|endoftext|>"),             # microsoft/Phi-3-mini-4k-instruct, July 2024
    "llama3": ("<|begin_of_text|>", "<|end_of_text|>"),   # meta-llama/Meta-Llama-3-8B-Instruct
    "mistral-v0.2": ("<s>", "</s>"),                      # mistralai/Mistral-7B-Instruct-v0.2
    "smollm2": ("<|im_start|>", "<|im_end|>"),            # HuggingFaceTB/SmolLM2-135M-Instruct (GGUF)
}


def m(role, content):
    return {"role": role, "content": content}


CONVERSATIONS = [
    ("single-user", [m("user", "Hello!")]),
    ("system-user", [m("system", "You are terse."), m("user", "What is 2+2?")]),
    ("notes-example", [m("system", "S"), m("user", "U"), m("assistant", "A"), m("user", "V")]),
    ("multi-turn", [m("user", "Hi"), m("assistant", "Hello! How can I help?"), m("user", "Tell me a joke."),
                    m("assistant", "Why did the chicken cross the road?"), m("user", "Why?")]),
    ("ends-with-assistant", [m("user", "Name a colour."), m("assistant", "Blue.")]),
    ("empty-content", [m("system", ""), m("user", ""), m("assistant", ""), m("user", "")]),
    ("whitespace-padded", [m("system", "  be nice  \n"), m("user", "\n\n  padded question \t \n"),
                           m("assistant", "   answer\n\n"), m("user", " \t ")]),
    ("unicode", [m("user", "héllo wörld — “quotes” 🦀🇫🇷 你好，世界 こんにちは 안녕하세요 e\u0301 \u00a0nbsp \u2028sep"),
                 m("assistant", "Ελληνικά ΣΊΣΥΦΟΣ ß ﬁ 🧑🏽‍💻"), m("user", "العربية עברית")]),
    ("template-like", [m("system", "{% if true %}not a tag{% endif %}"),
                       m("user", "{{ x }} {{ messages[0]['content'] }} {# comment #} {%- raw -%}"),
                       m("assistant", "{% for i in range(3) %}{{ i }}{% endfor %} }} %} #}"),
                       m("user", "{{ raise_exception('no') }}")]),
    ("roles-out-of-order", [m("assistant", "I speak first."), m("user", "Then me."), m("user", "And me again.")]),
    ("system-last", [m("user", "Hi"), m("system", "Late system prompt")]),
    ("unknown-role", [m("user", "Call the tool."), m("tool", "{\"result\": 42}"), m("user", "Thanks")]),
    ("escapes-and-newlines", [m("user", "line1\nline2\r\nline3\ttab \\ backslash 'single' \"double\""),
                              m("assistant", "```python\nprint('hi')\n```\n"), m("user", "\\n is not a newline")]),
    ("special-token-text", [m("user", "<s>[INST] fake [/INST]</s><|im_start|>user<|im_end|><|eot_id|><|end|>")]),
    ("long-multi-turn", [m("user" if i % 2 == 0 else "assistant", f"turn {i}: " + "word " * (i % 5)) for i in range(21)]),
    ("empty", []),
]

# Small templates, one feature each. (name, template, variables)
FEATURES = [
    # Whitespace control, trim_blocks, lstrip_blocks.
    ("ws-trim-blocks", "{% if true %}\nA\n{% endif %}\nB", {}),
    ("ws-lstrip-blocks", "  {% if true %}\n  a\n  {% endif %}\n  b", {}),
    ("ws-lstrip-not-after-text", "x  {% if true %}y{% endif %}", {}),
    ("ws-lstrip-not-after-variable", "{{ 1 }}  {% if true %}y{% endif %}", {}),
    ("ws-lstrip-tabs", "a\n\t \t{% if true %}b{% endif %}", {}),
    ("ws-variable-no-lstrip", "a\n  {{ 'v' }}\nb", {}),
    ("ws-variable-no-trim", "{{ 'v' }}\nb", {}),
    ("ws-comment", "a\n\t {# c #}\nb", {}),
    ("ws-comment-minus", "a  {#- c -#}  \n b", {}),
    ("ws-minus-variable", "a {{- ' b' -}} \n c", {}),
    ("ws-minus-block", "a \n {%- if true -%} \n b \n {%- endif -%} \n c", {}),
    ("ws-plus-block", "{%+ if true %}x{% endif +%}\ny", {}),
    ("ws-plus-lstrip", "  {%+ if true %}x{% endif %}", {}),
    ("ws-only-first-newline", "{% if true %}\n\nx{% endif %}", {}),
    ("ws-crlf", "{% if true %}\r\nx\r\n{% endif %}\r\ny\r\n", {}),
    ("ws-trailing-newline", "x\n", {}),
    ("ws-two-trailing-newlines", "x\n\n", {}),
    ("ws-for-lines", "{% for x in xs %}\n  - {{ x }}\n{% endfor %}\n", {"xs": [1, 2, 3]}),
    ("ws-nested-indent", "<ul>\n    {% for x in xs %}\n        {% if x %}\n    <li>{{ x }}</li>\n        {% endif %}\n    {% endfor %}\n</ul>", {"xs": ["a", "", "b"]}),
    ("ws-minus-unicode-space", "a\u00a0\u3000{%- if true %}b{% endif %}", {}),
    ("ws-set-lines", "{% set x = 1 %}\n{% set y = 2 %}\n{{ x + y }}", {}),
    ("ws-macro-lines", "{% macro f(a) %}\n[{{ a }}]\n{% endmacro %}\n{{ f(1) }}{{ f(2) }}", {}),
    # Literals and printing.
    ("print-scalars", "{{ 1 }} {{ 1.0 }} {{ 1.5 }} {{ -0.0 }} {{ 1e16 }} {{ 1e15 }} {{ 1.5e-7 }} {{ 0.0001 }} {{ 1_000 }} {{ true }} {{ True }} {{ none }} {{ None }}", {}),
    ("print-containers", "{{ [1, 'a', none, true, 1.5, (1,), {'k': 'v'}] }} {{ (1, 2) }} {{ () }} {{ {} }} {{ [] }}", {}),
    ("print-string-repr", "{{ ['it\\'s', \"a\\\"b\", '\\n', 'both\\'\"', '\\x01', 'é'] }}", {}),
    ("print-tuple-expression", "{{ 1, 'a' }}", {}),
    ("string-escapes", "{{ 'a\\tb\\\\c\\x41\\u00e9\\U0001F600\\101\\q' }}", {}),
    ("string-adjacent", "{{ 'a' 'b' \"c\" }}", {}),
    ("string-multiline-literal", "{{ 'a\nb' }}", {}),
    ("print-float-arith", "{{ 0.1 + 0.2 }} {{ 1/3 }} {{ 2 ** 0.5 }} {{ 10 / 4 }} {{ 4 / 2 }}", {}),
    ("print-variables", "{{ i }} {{ f }} {{ s }} {{ b }} {{ n }} {{ l }} {{ d }}", {"i": 3, "f": 2.0, "s": "x", "b": False, "n": None, "l": [1, "2"], "d": {"a": [1, {"b": None}]}}),
    # Operators.
    ("arith-int", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 2 ** -1 }}", {}),
    ("arith-float", "{{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 3 * 1.5 }} {{ 1 + true }}", {}),
    ("arith-precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 1 ~ 2 * 3 }} {{ 10 - 2 - 3 }} {{ -3 + 5 }}", {}),
    ("string-plus-and-tilde", "{{ 'a' + 'b' }} {{ 'a' ~ 1 ~ none ~ true ~ [1] }} {{ 'x' * 3 }} {{ 3 * 'y' }} {{ [1] * 2 }} {{ [1] + [2] }}", {}),
    ("compare", "{{ 1 < 2 }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ 1 == true }} {{ 'a' != 'b' }} {{ [1, 2] < [1, 3] }} {{ none == none }}", {}),
    ("logic", "{{ true and 'x' }} {{ 0 or 'y' }} {{ not 0 }} {{ not 'a' }} {{ '' or [] }} {{ none and 1 }} {{ not x is defined }}", {}),
    ("in-operator", "{{ 'a' in 'cat' }} {{ 'z' not in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 1 in (1,) }} {{ 'x' in undefined_thing }}", {}),
    ("conditional-expr", "{{ 'yes' if 1 else 'no' }} {{ 'yes' if 0 else 'no' }} [{{ 'only' if false }}] {{ 'a' if false else 'b' if true else 'c' }}", {}),
    ("filter-binds-tighter", "{{ 'x' + '  y  ' | trim + 'z' }} {{ -3 | abs }} {{ '  a ' | trim | upper }}", {}),
    ("truthiness", "{% for v in [0, 1, '', 'a', [], [0], {}, none, 0.0, true] %}{{ 'T' if v else 'F' }}{% endfor %}", {}),
    # Subscripts and attributes.
    ("subscripts", "{{ xs[0] }} {{ xs[-1] }} {{ d['a'] }} {{ d.a }} {{ d.b.c }} {{ xs.0 }} {{ 'abc'[1] }}", {"xs": [10, 20, 30], "d": {"a": 1, "b": {"c": 2}}}),
    ("slices", "{{ xs[1:] }} {{ xs[:-1] }} {{ xs[::-1] }} {{ xs[::2] }} {{ xs[5:] }} {{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ xs[-2:] }} {{ xs[1:-1:1] }}", {"xs": [1, 2, 3, 4]}),
    ("messages-slice", "{% for m in messages[1:] %}{{ m.role }}:{{ m.content }};{% endfor %}", {"messages": [m("system", "S"), m("user", "U"), m("assistant", "A")]}),
    ("missing-key-is-undefined", "[{{ d.missing }}][{{ d['missing'] }}][{{ xs[9] }}] {{ d.missing is defined }} {{ d.missing is undefined }}", {"d": {}, "xs": []}),
    ("attribute-method-precedence", "{{ d.items() | list }} {{ d['items'] }} {{ d.keys() | list }} {{ d.values() | list }}", {"d": {"items": 5, "k": 2}}),
    ("dict-methods", "{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 'dflt') }} {% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {"d": {"a": 1, "b": 2}}),
    ("dict-items-print", "{{ d.items() }}", {"d": {"a": 1}}),
    ("string-methods", "{{ ' x '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ ' a '.lstrip() }}|{{ ' a '.rstrip() }}|{{ 'abc'.startswith('a') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ 'Hi'.upper() }} {{ 'Hi'.lower() }} {{ 'aXa'.replace('a', 'b') }} {{ 'hello world'.title() }} {{ \"they're 1st\".title() }} {{ 'hELLO'.capitalize() }}", {}),
    ("string-methods-2", "{{ 'abcabc'.find('c') }} {{ 'abc'.find('z') }} {{ 'aaa'.count('a') }} {{ '-'.join(['a', 'b']) }} {{ 'a\\nb\\r\\nc'.splitlines() }} {{ 'x'.replace('', '-') }} {{ 'ab'.removeprefix('a') }} {{ '12'.isdigit() }}", {}),
    ("unicode-length-index", "{{ s | length }} {{ s[1] }} {{ s[::-1] }} {{ s | upper }} {{ s.title() }}", {"s": "e\u0301\u00df\U0001F980x"}),
    # Loops.
    ("loop-variables", "{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", {"xs": ["a", "b", "c"]}),
    ("loop-prev-next", "{% for x in xs %}[{{ loop.previtem }}|{{ loop.nextitem }}]{% endfor %}", {"xs": [1, 2, 3]}),
    ("loop-filter", "{% for x in range(10) if x is odd %}{{ loop.index }}:{{ x }}/{{ loop.length }} {% endfor %}", {}),
    ("loop-else", "{% for x in [] %}{{ x }}{% else %}empty{% endfor %}|{% for x in [1] if false %}{{ x }}{% else %}filtered{% endfor %}", {}),
    ("loop-unpack", "{% for k, v in d.items() %}{{ k }}={{ v }} {% endfor %}{% for a, b in [(1, 2), [3, 4]] %}{{ a + b }} {% endfor %}", {"d": {"x": 1, "y": 2}}),
    ("loop-dict-keys", "{% for k in d %}{{ k }}{% endfor %} {% for c in 'abc' %}{{ c }}-{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("loop-nested", "{% for i in range(2) %}{% for j in range(2) %}{{ i }}{{ j }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}", {}),
    ("loop-break-continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
    ("loop-cycle", "{% for i in range(5) %}{{ loop.cycle('odd', 'even') }} {% endfor %}", {}),
    ("range", "{{ range(3) | list }} {{ range(1, 4) | list }} {{ range(10, 0, -3) | list }} {{ range(0) | list }} {{ range(5) | length }}", {}),
    # Scoping.
    ("scope-set-in-loop", "{% set x = 1 %}{% for i in range(3) %}{{ x }}{% set x = x + 1 %}{{ x }};{% endfor %}{{ x }}", {}),
    ("scope-set-in-if", "{% set x = 5 %}{% if true %}{% set x = 6 %}{% endif %}{{ x }}", {}),
    ("scope-iteration-fresh", "{% for i in range(3) %}{% if i == 0 %}{% set y = 'a' %}{% endif %}[{{ y }}]{% endfor %}", {}),
    ("scope-loop-var-not-leaking", "{% for item in [1, 2] %}{% endfor %}[{{ item }}]{% set item = 'top' %}{% for item in [3] %}{{ item }}{% endfor %}{{ item }}", {}),
    ("scope-namespace", "{% set ns = namespace(found=false, n=0) %}{% for x in [1, 2, 3] %}{% if x == 2 %}{% set ns.found = true %}{% endif %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.found }} {{ ns.n }} {{ ns }}", {}),
    ("scope-block-set", "{% set x %}a{{ 1 + 1 }}\n{% endset %}[{{ x }}]{% set y | upper %}b{% endset %}{{ y }}", {}),
    ("scope-set-tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c = 3, 4 %}{{ c }}", {}),
    # Macros.
    ("macro-defaults", "{% macro f(a, b=2, c='x') %}[{{ a }}{{ b }}{{ c }}]{% endmacro %}{{ f(1) }}{{ f(1, 3) }}{{ f(1, c='y') }}{{ f() }}", {}),
    ("macro-recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * (fact(n - 1) | int) }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
    ("macro-sees-globals", "{% macro g() %}{{ bos_token }}{% endmacro %}{{ g() }}", {"bos_token": "<s>"}),
    # Tests.
    ("tests-types", "{{ x is defined }} {{ y is undefined }} {{ n is none }} {{ 's' is string }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 'a' is number }} {{ [1] is iterable }} {{ 's' is iterable }} {{ 1 is iterable }} {{ {} is mapping }} {{ [] is mapping }} {{ 1 is integer }} {{ 1.0 is float }} {{ true is boolean }} {{ y is iterable }}", {"x": 1, "n": None}),
    ("tests-values", "{{ 3 is odd }} {{ 3 is even }} {{ 4 is divisibleby 2 }} {{ 'a' is equalto 'a' }} {{ 1 is eq 1 }} {{ 1 is ne 2 }} {{ 3 is gt 2 }} {{ 2 is lt 1 }} {{ 2 is in [1, 2] }} {{ none is sameas none }} {{ 'ab' is lower }} {{ 'AB' is upper }} {{ x is not none }}", {"x": 1}),
    ("tests-precedence", "{{ 1 + 1 is odd }} {{ not 1 is odd }} {{ x is defined and x > 0 }}", {"x": 1}),
    # Filters.
    ("filters-strings", "{{ '  a b  ' | trim }}|{{ 'xxay' | trim('xy') }}|{{ 'ab' | upper }} {{ 'AB' | lower }} {{ 'hello wORLD-foo(bar' | title }} {{ 'hELLO' | capitalize }} {{ 'aXbX' | replace('X', '-') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 1 | string }} {{ none | string }}", {}),
    ("filters-length", "{{ [1, 2] | length }} {{ 'héllo' | length }} {{ {'a': 1} | length }} {{ x | length }} {{ [1, 2, 3] | count }}", {}),
    ("filters-default", "{{ x | default('d') }} {{ x | d('e') }} {{ none | default('n') }} {{ '' | default('empty', true) }} {{ 0 | default(5, boolean=true) }} {{ 'v' | default('w') }}", {}),
    ("filters-first-last-join", "{{ xs | first }} {{ xs | last }} {{ xs | join }} {{ xs | join(', ') }} {{ 'abc' | first }} {{ 'abc' | last }} {{ ds | join(',', attribute='n') }}", {"xs": [1, 2, 3], "ds": [{"n": "a"}, {"n": "b"}]}),
    ("filters-int-float-list", "{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ true | int }} {{ '2.5' | float }} {{ 3 | float }} {{ 'ab' | list }} {{ {'k': 1} | list }} {{ (1, 2) | list }}", {}),
    ("filters-items", "{% for k, v in d | items %}{{ k }}:{{ v }} {% endfor %}{{ d | items | list }}", {"d": {"b": 1, "a": [2]}}),
    ("filters-selectattr-map", "{{ ms | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }} {{ ms | rejectattr('role', 'equalto', 'user') | list | length }} {{ ms | map(attribute='role') | join(',') }} {{ [1, 0, 2] | select | list }} {{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3] | reject('odd') | list }} {{ ['a', 'b'] | map('upper') | list }} {{ ms | selectattr('tool') | list }} {{ ms | map(attribute='missing', default='z') | list }}", {"ms": [m("system", "S"), m("user", "U1"), m("assistant", "A"), m("user", "U2")]}),
    ("filters-tojson", "{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ d | tojson(separators=(',', ':')) }}|{{ d | tojson(sort_keys=true) }}|{{ 'é\"<>&\\n\\u2028' | tojson }}|{{ 'é' | tojson(ensure_ascii=true) }}|{{ [] | tojson(indent=2) }}|{{ {} | tojson }}|{{ [1, [2, []], {}] | tojson(indent='\\t') }}", {"d": {"z": 1, "a": [1.5, None, True, "x"], "m": {"k": "v"}}}),
    ("filters-tojson-floats", "{{ [1.0, 0.1, 1e16, 1e-7, 123456789.123, -0.0, 2 ** 62] | tojson }}", {}),
    ("filters-indent", "{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(width=3, blank=true) }}|{{ 'x\\ny' | indent('> ') }}", {}),
    ("filters-misc", "{{ [3, 1, 2] | sort | list }} {{ ['b', 'A', 'c'] | sort | list }} {{ [3, 1, 2] | sort(reverse=true) | list }} {{ [1, 2, 1, 3] | unique | list }} {{ [1, 2, 3] | sum }} {{ [3, 1, 2] | max }} {{ [3, 1, 2] | min }} {{ [1, 2, 3] | reverse | list }} {{ 'abc' | reverse }} {{ -2.5 | abs }} {{ '<a & b>' | e }} {{ '<b>' | safe }}", {}),
    ("filters-chain-args", "{{ messages | map(attribute='content') | map('trim') | join(' | ') }}", {"messages": [m("user", " a "), m("assistant", "b  ")]}),
    ("filter-block", "{% filter upper %}hello {{ name }}{% endfilter %}", {"name": "bob"}),
    # Globals.
    ("globals-namespace-dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }} {{ dict(x=1, y='z') }} {{ dict([('k', 'v')]) }}", {}),
    ("generation-block", "{% for m in messages %}{% generation %}{{ m.content }}{% set x = 1 %}{% endgeneration %}{{ x }}{% endfor %}", {"messages": [m("assistant", "A")]}),
    ("raise-exception", "{% if messages | length == 0 %}{{ raise_exception('No messages given!') }}{% endif %}", {"messages": []}),
    ("raise-exception-formatted", "{{ raise_exception('Role ' ~ role ~ ' is not supported') }}", {"role": "tool"}),
    # Errors jinja2 raises.
    ("undefined-attribute-of-undefined", "{{ x.y }}", {}),
    ("undefined-attribute-of-missing-key", "{{ d.y.z }}", {"d": {}}),
    ("undefined-element-of-list", "{{ l[5].z }}", {"l": []}),
    ("undefined-arithmetic", "{{ x + 1 }}", {}),
    ("undefined-call", "{{ nope() }}", {}),
    ("undefined-is-defined-attr", "{{ x.y is defined }}", {}),
    ("type-error-concat", "{{ 'a' + 1 }}", {}),
    ("type-error-tilde-binds-tighter-than-plus", "{{ 1 + 2 ~ 3 }}", {}),
    ("type-error-iterate", "{% for x in 5 %}{% endfor %}", {}),
    ("type-error-compare", "{{ 1 < 'a' }}", {}),
    ("zero-division", "{{ 1 / 0 }}", {}),
    ("unknown-filter", "{{ 1 | nosuchfilter }}", {}),
    ("unknown-test", "{{ 1 is nosuchtest }}", {}),
    ("syntax-unclosed-if", "{% if x %}a", {}),
    ("syntax-unclosed-for", "{% for x in y %}a{% if z %}b{% endif %}", {}),
    ("syntax-bad-expression", "{{ 1 +* 2 }}", {}),
    ("syntax-unknown-tag", "{% frobnicate %}", {}),
    ("syntax-unclosed-variable", "{{ x ", {}),
    ("syntax-unclosed-comment", "{# x ", {}),
    ("syntax-unclosed-string", "{{ 'abc }}", {}),
    ("syntax-endfor-without-for", "{% endfor %}", {}),
    ("range-too-big", "{{ range(100001) | length }}", {}),
]


def render(template_source, variables):
    try:
        return {"output": ENV.from_string(template_source).render(**variables)}
    except jinja2.exceptions.TemplateSyntaxError as e:
        return {"error": "syntax", "message": e.message}
    except jinja2.exceptions.UndefinedError as e:
        return {"error": "undefined", "message": e.message}
    except jinja2.exceptions.TemplateError as e:
        # raise_exception raises a bare TemplateError.
        return {"error": "raised", "message": e.message}
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, jinja2.exceptions.SecurityError) as e:
        return {"error": type(e).__name__, "message": str(e)}


def transformers_renderer():
    try:
        from transformers.utils.chat_template_utils import _compile_jinja_template
        import transformers
    except Exception:
        return None, None
    return _compile_jinja_template, transformers.__version__


def main():
    compile_hf, hf_version = transformers_renderer()
    cases = []
    cross_checked = 0
    for name, (bos, eos) in TEMPLATES.items():
        with open(os.path.join(HERE, name + ".jinja"), encoding="utf-8", newline="") as f:
            source = f.read()
        for conv_id, messages in CONVERSATIONS:
            for agp in (True, False):
                variables = {"messages": messages, "tools": None, "documents": None, "add_generation_prompt": agp,
                             "bos_token": bos, "eos_token": eos}
                result = render(source, variables)
                if compile_hf is not None:
                    try:
                        hf = {"output": compile_hf(source).render(**variables)}
                    except jinja2.exceptions.TemplateError as e:
                        hf = {"error": "raised", "message": e.message}
                    assert hf == result, (name, conv_id, agp, hf, result)
                    cross_checked += 1
                cases.append({"template": name, "conversation": conv_id, "add_generation_prompt": agp, **result})
    versions = {"jinja2": jinja2.__version__, "python": platform.python_version(),
                "transformers_cross_check": hf_version}
    with open(os.path.join(HERE, "conversations.json"), "w", encoding="utf-8") as f:
        json.dump({"versions": versions,
                   "templates": {n: {"file": n + ".jinja", "bos_token": b, "eos_token": e} for n, (b, e) in TEMPLATES.items()},
                   "conversations": [{"id": i, "messages": ms} for i, ms in CONVERSATIONS],
                   "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    features = []
    for name, source, variables in FEATURES:
        features.append({"name": name, "template": source, "variables": variables, **render(source, variables)})
    with open(os.path.join(HERE, "features.json"), "w", encoding="utf-8") as f:
        json.dump({"versions": versions, "cases": features}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"jinja2 {jinja2.__version__}, Python {platform.python_version()}: {len(cases)} conversation renders "
          f"({cross_checked} cross-checked with transformers {hf_version}), {len(features)} feature cases", file=sys.stderr)


if __name__ == "__main__":
    main()
