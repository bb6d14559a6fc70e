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
import copy
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
    ("raw-block", "a {% raw %}\n{{ x }}{% if %}\n  {% endraw %}\nb", {}),
    ("raw-block-minus", "a {%- raw -%}  {{ x }}  {%- endraw -%}  b|{%raw%}c{%endraw%}|{% raw %}{% raw %}{% endraw %}", {}),
    ("raw-block-plus", "{{ 'a' }}{% raw %}\nb{% endraw +%}\nc\n  {% raw %}x{% endraw %}\n", {}),
    ("raw-unclosed", "{% raw %}a", {}),
    ("ws-macro-lines", "{% macro f(a) %}\n[{{ a }}]\n{% endmacro %}\n{{ f(1) }}{{ f(2) }}", {}),
    # Literals and printing.
    ("print-scalars", "{{ 1 }} {{ 1.0 }} {{ 1.5 }} {{ -0.0 }} {{ 1e16 }} {{ 1e15 }} {{ 1.5e-7 }} {{ 0.0001 }} {{ 1_000 }} {{ true }} {{ True }} {{ none }} {{ None }}", {}),
    ("print-containers", "{{ [1, 'a', none, true, 1.5, (1,), {'k': 'v'}] }} {{ (1, 2) }} {{ () }} {{ {} }} {{ [] }}", {}),
    ("print-string-repr", "{{ ['it\\'s', \"a\\\"b\", '\\n', 'both\\'\"', '\\x01', 'é'] }}", {}),
    ("print-tuple-expression", "{{ 1, 'a' }}", {}),
    ("print-floats-layout", "{{ [9007199254740992.0, 9999999999999998.0, 1e15 * 9, 123456789012345678.0, 0.00001, 0.0001234, 1.7976931348623157e308, 2.2250738585072014e-308, 5e-324, 100.0, 1e-4, -1.5e-10, 1e100, 0.5, 2.5e-5, 1234.5678] }}", {}),
    ("tojson-floats-layout", "{{ [9999999999999998.0, 1e100, 2.5e-5, -0.0] | tojson }} {{ f }} {{ [f] | tojson }}", {"f": 1e-300}),
    ("with-block", "{% set a = 1 %}{% with a = 2, b = a %}{{ a }}{{ b }}{% set c = 3 %}{% endwith %}{{ a }}[{{ b }}][{{ c }}]{% with %}{% set d = 4 %}{{ d }}{% endwith %}[{{ d }}]", {}),
    ("string-escapes", "{{ 'a\\tb\\\\c\\x41\\u00e9\\U0001F600\\101\\q' }}", {}),
    ("string-adjacent", "{{ 'a' 'b' \"c\" }}", {}),
    ("string-multiline-literal", "{{ 'a\nb' }}", {}),
    ("print-float-arith", "{{ 0.1 + 0.2 }} {{ 1/3 }} {{ 2 ** 0.5 }} {{ 10 / 4 }} {{ 4 / 2 }}", {}),
    ("print-variables", "{{ i }} {{ f }} {{ s }} {{ b }} {{ n }} {{ l }} {{ d }}", {"i": 3, "f": 2.0, "s": "x", "b": False, "n": None, "l": [1, "2"], "d": {"a": [1, {"b": None}]}}),
    # Operators.
    ("arith-int", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 2 ** -1 }}", {}),
    ("arith-float", "{{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 3 * 1.5 }} {{ 1 + true }} {{ 1 // 0.1 }} {{ 1 % 0.1 }} {{ true % -0.5 }} {{ -0.0 // 1 }} {{ 0 // -1.0 }} {{ -7 // 2.0 }} {{ 7 % -3.0 }}", {}),
    ("arith-precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 1 ~ 2 * 3 }} {{ 10 - 2 - 3 }} {{ -3 + 5 }}", {}),
    ("percent-format", "{{ '%s and %d' % ('a', 3) }}|{{ '%05.2f' % 3.14159 }}|{{ '%(k)s-%(j)r' % d }}|{{ '%-5s|%5s' % ('ab', 'cd') }}|{{ '%x %X %o %#x' % (255, 255, 8, 255) }}|{{ '%r' % 'a' }}|{{ '%c%c' % (65, 'b') }}|{{ '100%%' % () }}|{{ '%+d % d' % (5, 5) }}|{{ '%.2s' % 'abc' }}|{{ '%e' % 12345.678 }}|{{ '%g %G' % (0.0001, 1e20) }}|{{ '%s' % [1, 2] }}|{{ '%s' % none }}|{{ '%*d' % (4, 7) }}|{{ '%i' % 3.9 }}|{{ 'no specs' % {} }}", {"d": {"k": "v", "j": 1}}),
    ("percent-format-too-few", "{{ '%s %s' % 'a' }}", {}),
    ("percent-format-too-many", "{{ '%s' % (1, 2) }}", {}),
    ("percent-format-type", "{{ '%d' % 'x' }}", {}),
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
    ("string-rfind", "{{ 'abcabc'.rfind('c') }} {{ 'abc'.rfind('z') }} {{ 'aéaé'.rfind('é') }} {{ 'abc'.rfind('') }} {{ ''.rfind('') }} {{ 'aaa'.rfind('aa') }}", {}),
    ("string-methods-2", "{{ 'abcabc'.find('c') }} {{ 'abc'.find('z') }} {{ 'aaa'.count('a') }} {{ '-'.join(['a', 'b']) }} {{ 'a\\nb\\r\\nc'.splitlines() }} {{ 'x'.replace('', '-') }} {{ 'ab'.removeprefix('a') }} {{ '12'.isdigit() }}", {}),
    ("unicode-case", "{{ s | lower }}|{{ s | upper }}|{{ s | title }}|{{ s | capitalize }}|{{ s.title() }}|{{ s.lower() }}|{{ t | title }}|{{ t.title() }}|{{ u.upper() }}", {"s": "ΣΊΣΥΦΟΣ ΟΔΟΣ. Σ ΑΣ'Σ", "t": "ǆemal ǉubljana o'neil x-ray (a)b", "u": "straße ﬁ ŉ"}),
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
    ("scope-conditional-set-in-loop", "{% set x = 'outer' %}{% for i in [0, 1, 2] %}{% if i == 1 %}{% set x = 'inner' %}{% endif %}{{ x }},{% endfor %}{{ x }}", {}),
    ("scope-macro-reads-later-global", "{% macro f() %}[{{ y }}]{% endmacro %}{% set y = 2 %}{{ f() }}", {}),
    ("scope-macro-set-does-not-leak", "{% set z = 1 %}{% macro f() %}{% set z = 2 %}{{ z }}{% endmacro %}{{ f() }}{{ z }}", {}),
    ("scope-outer-loop-saved", "{% for a in [1, 2] %}{% set outer = loop %}{% for b in [3, 4] %}{{ outer.index }}{{ loop.index }} {% endfor %}{% endfor %}", {}),
    ("scope-namespace-in-macro", "{% set ns = namespace(n=0) %}{% macro bump() %}{% set ns.n = ns.n + 1 %}{% endmacro %}{{ bump() }}{{ bump() }}{{ ns.n }}", {}),
    ("scope-loop-var-shadows", "{% set i = 'top' %}{% for i in [1, 2] %}{% set i = i * 10 %}{{ i }} {% endfor %}{{ i }}", {}),
    ("scope-loop-outside", "[{{ loop.index }}][{{ loop is defined }}]", {}),
    ("scope-set-then-loop-filter", "{% set limit = 2 %}{% for x in [1, 2, 3] if x <= limit %}{{ x }}{% endfor %}", {}),
    ("scope-nested-if-set", "{% if true %}{% if true %}{% set deep = 'd' %}{% endif %}{% endif %}{{ deep }}", {}),
    ("scope-block-set", "{% set x %}a{{ 1 + 1 }}\n{% endset %}[{{ x }}]{% set y | upper %}b{% endset %}{{ y }}", {}),
    ("scope-block-set-frame", "{% set k = 0 %}{% set x %}{% set k = 1 %}{{ k }}{% endset %}{{ x }}{{ k }}{% filter upper %}{% set k = 2 %}{{ k }}{% endfilter %}{{ k }}", {}),
    ("loop-else-after-break-continue", "{% for i in [1, 2] %}{% if i == 2 %}{% continue %}{% endif %}{% else %}A{% endfor %}|{% for i in [1, 2] %}{% continue %}{% else %}B{% endfor %}|{% for i in [1, 2] %}{% break %}{% else %}C{% endfor %}|{% for i in [1, 2] %}{% if i == 2 %}{% break %}{% endif %}{% else %}D{% endfor %}", {}),
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
    ("filters-dictsort", "{{ d | dictsort }} {{ d | dictsort(by='value') }} {{ d | dictsort(reverse=true) }} {% for k, v in d | dictsort %}{{ k }}{{ v }}{% endfor %}", {"d": {"b": 2, "a": 3, "C": 1}}),
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

# Larger templates in the style of other published chat templates (Qwen2.5 with tools, Llama 3.1
# with tools and dates, Gemma, Mistral v0.3 with tool calls, DeepSeek-R1, Hermes-style recursive
# macros, an indented ChatML): combinations of the features above, as real templates combine them.
QWEN25 = r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"""

LLAMA31 = r"""{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\n\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
"""

GEMMA = "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"

MISTRAL_V03 = r"""{%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}

{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}
{%- set ns = namespace() %}
{%- set ns.index = 0 %}
{%- for message in loop_messages %}
    {%- if not (message.role == "tool" or message.role == "tool_results" or (message.tool_calls is defined and message.tool_calls is not none)) %}
        {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}
            {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
        {%- endif %}
        {%- set ns.index = ns.index + 1 %}
    {%- endif %}
{%- endfor %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS] [" }}
            {%- for tool in tools %}
                {%- set tool = tool.function %}
                {{- '{"type": "function", "function": {' }}
                {%- for key, val in tool.items() if key != "return" %}
                    {%- if val is string %}
                        {{- '"' + key + '": "' + val + '"' }}
                    {%- else %}
                        {{- '"' + key + '": ' + val|tojson }}
                    {%- endif %}
                    {%- if not loop.last %}
                        {{- ", " }}
                    {%- endif %}
                {%- endfor %}
                {{- "}}" }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- else %}
                    {{- "]" }}
                {%- endif %}
            {%- endfor %}
            {{- "[/AVAILABLE_TOOLS]" }}
            {%- endif %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST] " + system_message + "\n\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST] " + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message.tool_calls is defined and message.tool_calls is not none %}
        {{- "[TOOL_CALLS] [" }}
        {%- for tool_call in message.tool_calls %}
            {%- set out = tool_call.function|tojson %}
            {{- out[:-1] }}
            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}
                {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
            {%- endif %}
            {{- ', "id": "' + tool_call.id + '"}' }}
            {%- if not loop.last %}
                {{- ", " }}
            {%- else %}
                {{- "]" + eos_token }}
            {%- endif %}
        {%- endfor %}
    {%- elif message["role"] == "assistant" %}
        {{- " " + message["content"]|trim + eos_token}}
    {%- elif message["role"] == "tool_results" or message["role"] == "tool" %}
        {%- if message.content is defined and message.content.content is defined %}
            {%- set content = message.content.content %}
        {%- else %}
            {%- set content = message.content %}
        {%- endif %}
        {{- '[TOOL_RESULTS] {"content": ' + content|string + ", " }}
        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}
            {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
        {%- endif %}
        {{- '"call_id": "' + message.tool_call_id + '"}[/TOOL_RESULTS]' }}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
"""

DEEPSEEK_R1 = r"""{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='', is_first_sp=true) %}{%- for message in messages %}{%- if message['role'] == 'system' %}{%- if ns.is_first_sp %}{% set ns.system_prompt = ns.system_prompt + message['content'] %}{% set ns.is_first_sp = false %}{%- else %}{% set ns.system_prompt = ns.system_prompt + '\n\n' + message['content'] %}{%- endif %}{%- endif %}{%- endfor %}{{ bos_token }}{{ ns.system_prompt }}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and 'tool_calls' in message %}{%- set ns.is_tool = false -%}{%- for tool in message['tool_calls'] %}{%- if not ns.is_first %}{%- if message['content'] is none %}{{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}{%- else %}{{'<｜Assistant｜>' + message['content'] + '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}{%- endif %}{%- set ns.is_first = true -%}{%- else %}{{'\n' + '<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}{%- endif %}{%- endfor %}{{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}{%- endif %}{%- if message['role'] == 'assistant' and 'tool_calls' not in message %}{%- if ns.is_tool %}{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- set ns.is_tool = false -%}{%- else %}{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endif %}{%- if message['role'] == 'tool' %}{%- set ns.is_tool = true -%}{%- if ns.is_output_first %}{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- set ns.is_output_first = false %}{%- else %}{{'<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- endif %}{%- endif %}{%- endfor -%}{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{% endif %}{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜><think>\n'}}{% endif %}"""

HERMES_MACROS = r"""{%- macro json_to_python_type(json_spec) %}
{%- set basic_type_map = {
    "string": "str",
    "number": "float",
    "integer": "int",
    "boolean": "bool"
} %}

{%- if basic_type_map[json_spec.type] is defined %}
    {{- basic_type_map[json_spec.type] }}
{%- elif json_spec.type == "array" %}
    {{- "list[" +  json_to_python_type(json_spec['items']) + "]"}}
{%- elif json_spec.type == "object" %}
    {%- if json_spec.additionalProperties is defined %}
        {{- "dict[str, " + json_to_python_type(json_spec.additionalProperties) + ']'}}
    {%- else %}
        {{- "dict" }}
    {%- endif %}
{%- elif json_spec.type is iterable %}
    {{- "Union[" }}
    {%- for t in json_spec.type %}
      {{- json_to_python_type({"type": t}) }}
      {%- if not loop.last %}
        {{- "," }}
    {%- endif %}
    {%- endfor %}
    {{- "]" }}
{%- else %}
    {{- "Any" }}
{%- endif %}
{%- endmacro %}

{{- bos_token }}
{{- "You are a function calling AI model. Here are the available tools: <tools> " }}
{%- for tool in tools %}
    {%- if tool.function is defined %}
        {%- set tool = tool.function %}
    {%- endif %}
    {{- '{"type": "function", "function": ' }}
    {{- '{"name": "' + tool.name + '", ' }}
    {{- '"description": "' + tool.name + '(' }}
    {%- for param_name, param_fields in tool.parameters.properties|items %}
        {{- param_name + ": " + json_to_python_type(param_fields) }}
        {%- if not loop.last %}
            {{- ", " }}
        {%- endif %}
    {%- endfor %}
    {{- ")" }}
    {%- if tool.return is defined %}
        {{- " -> " + json_to_python_type(tool.return) }}
    {%- endif %}
    {{- " - " + tool.description + "\n\n" }}
    {%- for param_name, param_fields in tool.parameters.properties|items %}
        {%- if loop.first %}
            {{- "    Args:\n" }}
        {%- endif %}
        {{- "        " + param_name + "(" + json_to_python_type(param_fields) + "): " + param_fields.description|trim }}
    {%- endfor %}
    {{- '", "parameters": ' }}
    {%- if tool.parameters.properties | length == 0 %}
        {{- "{}" }}
    {%- else %}
        {{- tool.parameters|tojson }}
    {%- endif %}
    {{- "}" }}
    {%- if not loop.last %}
        {{- "\n" }}
    {%- endif %}
{%- endfor %}
{{- " </tools>" }}
{%- for message in messages %}
    {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"""

INDENTED_CHATML = """{% for message in messages %}
    {% if message['role'] == 'system' %}
        <|system|>
        {{ message['content'] }}
    {% elif message['role'] == 'user' %}
        <|user|>
        {{ message['content'] }}
    {% else %}
        <|assistant|>
        {{ message['content'] }}
    {% endif %}
    {# a comment on its own line #}
{% endfor %}
{% if add_generation_prompt %}
    <|assistant|>
{% endif %}
"""

WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Get the weather in a city.",
                "parameters": {"type": "object", "properties": {
                    "city": {"type": "string", "description": "The city, e.g. Paris "},
                    "days": {"type": "integer", "description": "How many days"},
                    "units": {"type": ["string", "number"], "description": "celsius or fahrenheit"},
                    "tags": {"type": "array", "items": {"type": "string"}, "description": "Tags"},
                    "extra": {"type": "object", "additionalProperties": {"type": "number"}, "description": "Extra"}},
                    "required": ["city"]}}}
TOOL_CALL_MESSAGES = [
    m("system", "You are a weather bot."),
    m("user", "Weather in Paris?"),
    {"role": "assistant", "content": "", "tool_calls": [{"id": "abc123XYZ", "type": "function",
        "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}}]},
    {"role": "tool", "tool_call_id": "abc123XYZ", "content": "{\"temp\": 21.5, \"sky\": \"clear\"}"},
    m("assistant", "It is 21.5 °C and clear."),
    m("user", "Thanks!"),
]
PLAIN = [m("system", "S"), m("user", "U"), m("assistant", "A"), m("user", "V")]
ALTERNATING = [m("user", " U1 "), m("assistant", " A1 "), m("user", "U2")]
R1_MESSAGES = [m("system", "Be brief."), m("user", "2+2?"), m("assistant", "<think>\nadd\n</think>\n\n4"), m("user", "3+3?")]


def vars_(messages, **extra):
    return {"messages": messages, "bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": True,
            "tools": None, "documents": None, **extra}


FEATURES += [
    ("real-qwen25-plain", QWEN25, vars_(PLAIN)),
    ("real-qwen25-no-system", QWEN25, vars_(ALTERNATING)),
    ("real-qwen25-tools", QWEN25, vars_(TOOL_CALL_MESSAGES, tools=[WEATHER_TOOL])),
    ("real-llama31-plain", LLAMA31, vars_(PLAIN)),
    ("real-llama31-tools", LLAMA31, vars_(TOOL_CALL_MESSAGES[:4] + [m("user", "ok")], tools=[WEATHER_TOOL])),
    ("real-llama31-builtin-tools", LLAMA31, vars_(PLAIN, builtin_tools=["brave_search", "code_interpreter", "wolfram_alpha"], date_string="1 Jan 2025")),
    ("real-llama31-tools-no-user", LLAMA31, vars_([m("system", "S")], tools=[WEATHER_TOOL])),
    ("real-gemma", GEMMA, vars_(ALTERNATING)),
    ("real-gemma-system", GEMMA, vars_(PLAIN)),
    ("real-mistral-v03-plain", MISTRAL_V03, vars_(PLAIN)),
    ("real-mistral-v03-tools", MISTRAL_V03, vars_(TOOL_CALL_MESSAGES[1:], tools=[WEATHER_TOOL])),
    ("real-mistral-v03-bad-order", MISTRAL_V03, vars_([m("user", "a"), m("user", "b")])),
    ("real-deepseek-r1", DEEPSEEK_R1, vars_(R1_MESSAGES)),
    ("real-deepseek-r1-tools", DEEPSEEK_R1, vars_([m("user", "Weather?"),
        {"role": "assistant", "content": None, "tool_calls": [
            {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
            {"type": "function", "function": {"name": "get_time", "arguments": "{}"}}]},
        m("tool", "21C"), m("tool", "noon"), m("assistant", "21C at noon.")])),
    ("real-hermes-macros", HERMES_MACROS, vars_(PLAIN, tools=[WEATHER_TOOL])),
    # An unknown JSON type name recurses without end in this macro (it iterates the string's
    # letters): Python's RecursionError, Sparrow's recursion limit.
    ("real-hermes-macros-unknown-type", HERMES_MACROS, vars_(PLAIN, tools=[{"name": "f", "description": "d",
        "parameters": {"type": "object", "properties": {"x": {"type": "null", "description": "x"}}}}])),
    ("real-indented-chatml", INDENTED_CHATML, vars_(PLAIN)),
    ("real-indented-chatml-no-prompt", INDENTED_CHATML, {**vars_(ALTERNATING), "add_generation_prompt": False}),
]

def random_templates(count, seed=20241127):
    """Seeded random templates mixing text (spaces, tabs, newlines, CRLF) with tags under every
    whitespace-control sign: a differential test of the lexer's trim_blocks / lstrip_blocks rules."""
    import random
    rng = random.Random(seed)
    texts = ["", " ", "  ", "\t", "\n", "\n\n", "  \n", "x", " y ", "\n  z\n", "\r\n", " \t\n ", "\n\t\t", "w\n    "]
    exprs = ["1", "'a'", "x", "xs | length", "x ~ 'b'", "none", "[1, 2]", "s", "s | trim", "loop.index if loop is defined else 0"]
    open_signs = ["", "", "-", "+"]
    close_signs = ["", "", "-", "+"]

    def text():
        return "".join(rng.choice(texts) for _ in range(rng.randint(0, 3)))

    def tag(body):
        return "{%" + rng.choice(open_signs) + rng.choice([" ", "", "  "]) + body + rng.choice([" ", ""]) + rng.choice(close_signs) + "%}"

    def piece(depth):
        r = rng.random()
        if r < 0.3:
            return text()
        if r < 0.5:
            return "{{" + rng.choice(["", "-"]) + " " + rng.choice(exprs) + " " + rng.choice(["", "-"]) + "}}"
        if r < 0.6:
            return "{#" + rng.choice(["", "-", "+"]) + " c " + rng.choice(["", "-", "+"]) + "#}"
        if r < 0.7:
            return tag("set v = " + rng.choice(exprs))
        if depth >= 3:
            return text()
        if r < 0.85:
            inner = body(depth + 1)
            other = tag("else") + body(depth + 1) if rng.random() < 0.4 else ""
            return tag("if " + rng.choice(["x", "not x", "xs", "none", "x > 0"])) + inner + other + tag("endif")
        return tag("for i in " + rng.choice(["xs", "range(2)", "[]"])) + body(depth + 1) + tag("endfor")

    def body(depth):
        return "".join(piece(depth) for _ in range(rng.randint(1, 5)))

    return [(f"random-{i:03d}", body(0), {"x": 1, "xs": [1, 2, 3], "s": " s "}) for i in range(count)]


def random_expressions(count, seed=1127):
    """Seeded random expressions over jinja2's operators, filters, tests and methods, printed with
    `{{ }}`: a differential test of evaluation and printing (errors compared by kind only)."""
    import random
    rng = random.Random(seed)
    atoms = ["0", "1", "-2", "7", "2.5", "-0.5", "1e3", "''", "'ab'", "' Hi there '", "'a,b'", "'é🦀'", "none", "true", "false",
             "[]", "[1, 2, 3]", "['x', 'y']", "(1, 'a')", "{}", "{'k': 1, 'j': [2]}", "n", "f", "s", "xs", "d", "missing", "ms"]
    binary = ["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">=", "and", "or", "in", "not in"]
    filters = ["length", "trim", "upper", "lower", "title", "capitalize", "string", "first", "last", "join", "join(', ')",
               "default('D')", "int", "float", "list", "reverse | list", "tojson", "abs", "sort", "unique | list", "sum", "min", "max",
               "count", "replace('a', 'b')", "indent(2)", "map('string') | list", "select | list", "items | list",
               "selectattr('role', 'equalto', 'user') | list", "map(attribute='content') | list", "dictsort", "wordcount", "center(9)"]
    tests = ["defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "iterable", "sequence",
             "odd", "even", "divisibleby 3", "equalto 1", "in [1, 'ab']", "true", "false", "boolean", "lower", "upper"]
    methods = ["strip()", "upper()", "lower()", "split()", "split(',')", "startswith('a')", "endswith('b')", "replace('a', 'z')",
               "title()", "find('b')", "count('a')", "lstrip('a')", "rstrip()", "capitalize()", "items() | list", "keys() | list",
               "values() | list", "get('k')", "get('zz', 0)", "index(1)", "count(1)", "splitlines()"]

    def expr(depth):
        r = rng.random()
        if depth >= 3 or r < 0.25:
            return rng.choice(atoms)
        if r < 0.5:
            return "(" + expr(depth + 1) + " " + rng.choice(binary) + " " + expr(depth + 1) + ")"
        if r < 0.65:
            return "(" + expr(depth + 1) + " | " + rng.choice(filters) + ")"
        if r < 0.75:
            return "(" + expr(depth + 1) + " is " + rng.choice(["", "not "]) + rng.choice(tests) + ")"
        if r < 0.85:
            return "(" + expr(depth + 1) + ")." + rng.choice(methods)
        if r < 0.9:
            return "(" + expr(depth + 1) + " if " + expr(depth + 1) + " else " + expr(depth + 1) + ")"
        if r < 0.95:
            # Subscripts of variables only: jinja2 folds constant subexpressions at compile time,
            # where a failed slice becomes undefined instead of Python's TypeError.
            return rng.choice(["s", "xs", "d", "ms", "n", "f", "missing"]) + "[" + rng.choice(["0", "-1", "1:", "::-1", "'k'", ":2", "5"]) + "]"
        return "(not " + expr(depth + 1) + ")"

    variables = {"n": 3, "f": 1.5, "s": "Hello, World", "xs": [3, 1, 2], "d": {"k": "v", "a": 1},
                 "ms": [m("user", "U"), m("assistant", "A")]}
    return [(f"fuzz-{i:03d}", "{{ " + expr(0) + " }}", variables) for i in range(count)]


def random_programs(count, seed=4242):
    """Seeded random programs: loops with loop.* and break/continue, if/elif/else, namespaces,
    macros, block sets and with blocks, nested and mixed, printing what they compute (a differential
    test of statement semantics and scoping)."""
    import random
    rng = random.Random(seed)
    base_values = ["x", "y", "ns.n", "xs | length", "k", "acc", "'s' ~ x", "xs[-1]", "none", "1", "'t'"]
    loop_values = ["loop.index", "loop.first", "loop.last", "loop.revindex0", "loop.length"]
    base_conds = ["x", "not x", "ns.n > 2", "y is defined", "k == 'a'", "acc", "xs", "ns.n is even"]
    loop_conds = ["loop.first", "loop.last", "loop.index is odd"]

    def usable(names):
        out = list(base_values)
        if names:
            out += loop_values
        if "i" in names:
            out += ["i", "i * 2"]
        if "m" in names:
            out += ["m.role", "m.content | lower"]
        return out

    def value(names):
        return rng.choice(usable(names))

    def cond(names):
        out = list(base_conds)
        if names:
            out += loop_conds
        if "i" in names:
            out += ["i is odd", "i in [1, 2]"]
        if "m" in names:
            out += ["m.role == 'user'"]
        return rng.choice(out)

    def stmt(depth, names):
        r = rng.random()
        if r < 0.25 or depth >= 3:
            return "{{ " + value(names) + " }}" + rng.choice(["", ",", "\\n", " "])
        if r < 0.35:
            return "{% set " + rng.choice(["x", "y", "acc", "k"]) + " = " + value(names) + " %}"
        if r < 0.45:
            return "{% set ns.n = ns.n + " + rng.choice(["1", "2", "xs | length"] + (["loop.index"] if names else [])) + " %}"
        if r < 0.55 and names:
            return "{% if " + cond(names) + " %}{% " + rng.choice(["break", "continue"]) + " %}{% endif %}"
        if r < 0.7:
            text = "{% if " + cond(names) + " %}" + block(depth + 1, names)
            if rng.random() < 0.5:
                text += "{% elif " + cond(names) + " %}" + block(depth + 1, names)
            if rng.random() < 0.5:
                text += "{% else %}" + block(depth + 1, names)
            return text + "{% endif %}"
        if r < 0.82:
            var = rng.choice(["i", "m", "k"])
            it = {"i": rng.choice(["range(4)", "xs", "[]"]), "m": "ms", "k": rng.choice(["d", "'ab'", "d.keys()"])}[var]
            # Loop filters read nothing the body can change (jinja2 evaluates them lazily, Sparrow
            # before the loop: a documented difference when the body changes a namespace the filter reads).
            flt = " if " + rng.choice(["x", "not x", "k == 'a'", "xs"] + (["i is odd"] if var == "i" else []) + (["m.role == 'user'"] if var == "m" else [])) if rng.random() < 0.3 else ""
            other = "{% else %}E" if rng.random() < 0.3 else ""
            return "{% for " + var + " in " + it + flt + " %}" + block(depth + 1, names | {var, "loop"}) + other + "{% endfor %}"
        if r < 0.88:
            return "{% set acc %}" + block(depth + 1, names) + "{% endset %}[{{ acc }}]"
        if r < 0.94:
            return "{% with y = " + value(names) + " %}" + block(depth + 1, names) + "{% endwith %}"
        return "{{ f(" + value(names) + ") }}"

    def block(depth, names):
        return "".join(stmt(depth, names) for _ in range(rng.randint(1, 4)))

    # Every name a program assigns is first set at the top level: jinja2 resolves names statically,
    # and a read inside a loop or macro *before* a later unconditional top-level set is undefined
    # there (a documented difference: Sparrow's scopes are dynamic and would see the context value).
    prelude = ("{% set x = x %}{% set y = 'Y' %}{% set acc = '' %}{% set k = 'a' %}{% set ns = namespace(n=0) %}"
               "{% macro f(a, b='B') %}<{{ a }}{{ b }}{{ x }}>{% endmacro %}")
    variables = {"x": 1, "xs": [1, 2, 3], "d": {"a": 1, "b": 2}, "ms": [m("user", "U"), m("assistant", "A")]}
    return [(f"program-{i:03d}", prelude + block(0, frozenset()) + "|{{ ns.n }}{{ x }}{{ y }}{{ acc }}", variables) for i in range(count)]


FEATURES += random_templates(int(os.environ.get("RANDOM_COUNT", "300")), seed=int(os.environ.get("RANDOM_SEED", "20241127")))
FEATURES += random_programs(int(os.environ.get("PROGRAM_COUNT", "200")), seed=int(os.environ.get("PROGRAM_SEED", "4242")))
FEATURES += random_expressions(int(os.environ.get("FUZZ_COUNT", "400")), seed=int(os.environ.get("FUZZ_SEED", "1127")))


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
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, RecursionError, AttributeError, jinja2.exceptions.SecurityError) as e:
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
        # A render may mutate its variables (indent appends to a list it is given), so each case
        # renders and records its own copy.
        features.append({"name": name, "template": source, "variables": copy.deepcopy(variables),
                         **render(source, copy.deepcopy(variables))})
    with open(os.path.join(HERE, "features.json"), "w", encoding="utf-8") as f:
        json.dump({"versions": versions, "cases": features}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"jinja2 {jinja2.__version__}, Python {platform.python_version()}: {len(cases)} conversation renders "
          f"({cross_checked} cross-checked with transformers {hf_version}), {len(features)} feature cases", file=sys.stderr)


if __name__ == "__main__":
    main()
