"""Tool calls through the official `openai` client, arguments validated by Python's `jsonschema`.

Usage: tool_calls_check.py BASE_URL MODEL

1. get_weather(city, unit) with tool_choice "required", whole and streamed (the stream accumulated
   by the client's own helper, client.beta.chat.completions.stream, and by hand from the deltas):
   each answer is a call of get_weather whose arguments parse and validate against its schema,
   with finish_reason "tool_calls".
2. A named function with two tools offered: the call names it.
3. The follow-up turn: the assistant's tool_calls message and the tool's result, with tool_choice
   "auto" and "none": the answer is text.
4. An unknown function in tool_choice raises BadRequestError naming tool_choice.
Exits 1 on any failure.
"""
import json
import sys

import jsonschema
import openai
from openai import OpenAI

base, model = sys.argv[1], sys.argv[2]
client = OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0, timeout=300)
failures = 0


def fail(message):
    global failures
    failures += 1
    print("FAIL:", message)


weather_parameters = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "The city, e.g. Paris"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["city", "unit"],
}
weather = {"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city",
                                             "parameters": weather_parameters}}
time_tool = {"type": "function", "function": {"name": "get_time", "description": "Current time in a time zone",
                                               "parameters": {"type": "object", "properties": {"zone": {"type": "string"}},
                                                              "required": ["zone"]}}}
messages = [{"role": "user", "content": "What is the weather like in Paris today?"}]


def check_call(call, label, name="get_weather", schema=weather_parameters):
    if call.type != "function" or call.function.name != name or not call.id:
        fail(f"{label}: not a call of {name} with an id: {call}")
        return None
    try:
        arguments = json.loads(call.function.arguments)
        jsonschema.validate(arguments, schema)
    except (ValueError, jsonschema.ValidationError) as error:
        fail(f"{label}: arguments {call.function.arguments!r}: {error}")
        return None
    print(f"{label}: {call.id} {call.function.name}({call.function.arguments})")
    return arguments


# 1. required, whole.
whole = client.chat.completions.create(model=model, messages=messages, tools=[weather], tool_choice="required",
                                       temperature=0, max_tokens=200)
choice = whole.choices[0]
if choice.finish_reason != "tool_calls" or choice.message.content is not None or not choice.message.tool_calls:
    fail(f"whole: expected tool_calls, got {choice}")
else:
    check_call(choice.message.tool_calls[0], "required, whole")
first_call = choice.message.tool_calls[0] if choice.message.tool_calls else None

# 1. required, streamed: by hand from the deltas, keyed on each call's index.
calls, finish = {}, None
for chunk in client.chat.completions.create(model=model, messages=messages, tools=[weather], tool_choice="required",
                                            temperature=0, max_tokens=200, stream=True):
    for c in chunk.choices:
        for delta in c.delta.tool_calls or []:
            entry = calls.setdefault(delta.index, {"id": None, "name": None, "arguments": ""})
            entry["id"] = entry["id"] or delta.id
            if delta.function:
                entry["name"] = entry["name"] or delta.function.name
                entry["arguments"] += delta.function.arguments or ""
        finish = c.finish_reason or finish
if finish != "tool_calls" or len(calls) != 1:
    fail(f"stream: finish {finish}, calls {calls}")
else:
    call = calls[0]
    if call["name"] != "get_weather":
        fail(f"stream: {call}")
    else:
        arguments = json.loads(call["arguments"])
        jsonschema.validate(arguments, weather_parameters)
        print(f"required, streamed by hand: {call['id']} get_weather({call['arguments']})")
        if first_call and arguments != json.loads(first_call.function.arguments):
            fail(f"stream: greedy arguments differ: {call['arguments']} vs {first_call.function.arguments}")

# 1. required, streamed through the client's accumulating helper.
with client.beta.chat.completions.stream(model=model, messages=messages, tools=[weather], tool_choice="required",
                                         temperature=0, max_tokens=200) as stream:
    final = stream.get_final_completion()
helper = final.choices[0]
if helper.finish_reason != "tool_calls" or not helper.message.tool_calls:
    fail(f"stream helper: {helper}")
else:
    check_call(helper.message.tool_calls[0], "required, streamed (client helper)")

# 2. A named function among two tools.
named = client.chat.completions.create(model=model, messages=messages, tools=[weather, time_tool],
                                       tool_choice={"type": "function", "function": {"name": "get_time"}},
                                       temperature=0, max_tokens=200)
if not named.choices[0].message.tool_calls:
    fail(f"named: {named.choices[0]}")
else:
    check_call(named.choices[0].message.tool_calls[0], "named get_time", "get_time",
               time_tool["function"]["parameters"])

# 3. The follow-up turn with the call and its result.
if first_call:
    follow = messages + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": first_call.id, "type": "function",
             "function": {"name": "get_weather", "arguments": first_call.function.arguments}}]},
        {"role": "tool", "tool_call_id": first_call.id, "content": json.dumps({"temperature": 21, "sky": "sunny"})},
    ]
    for tool_choice in ("auto", "none"):
        answer = client.chat.completions.create(model=model, messages=follow, tools=[weather], tool_choice=tool_choice,
                                                temperature=0, max_tokens=80)
        c = answer.choices[0]
        if c.finish_reason == "tool_calls" and tool_choice == "auto":
            print(f"follow-up ({tool_choice}): the model called again: {c.message.tool_calls}")
        elif not c.message.content or c.message.tool_calls:
            fail(f"follow-up ({tool_choice}): expected text, got {c}")
        else:
            print(f"follow-up ({tool_choice}, {c.finish_reason}): {c.message.content!r}")

# 4. A 400 naming the field.
try:
    client.chat.completions.create(model=model, messages=messages, tools=[weather],
                                   tool_choice={"type": "function", "function": {"name": "nope"}})
    fail("unknown tool_choice function accepted")
except openai.BadRequestError as error:
    if error.body.get("param") != "tool_choice" if isinstance(error.body, dict) else "tool_choice" not in str(error):
        fail(f"400 without param tool_choice: {error}")
    else:
        print("unknown tool_choice function: 400 naming tool_choice")

print("tool calls:", "FAILED" if failures else "ok")
sys.exit(1 if failures else 0)
