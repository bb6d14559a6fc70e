#!/usr/bin/env python3
"""Checks `sparrow serve` with the official `openai` Python client (from PyPI).

Usage: openai_client_check.py BASE_URL [MODEL] [--mock]

Chats with the server (whole and streamed; the second reports the prompt tokens its prefix cache
held, usage.prompt_tokens_details.cached_tokens), asks for a completion (whole and streamed), lists the
models, and checks that a bad request raises the client's BadRequestError with the field named and an
unknown model raises NotFoundError. Without --mock it also asks both endpoints for logprobs, whole and
streamed, and checks what the client parses: each token's text, bytes, logprob and alternatives, the
same streamed as whole (echo with logprobs is refused: the prompt's entries are not implemented). --mock sends mock_response so no model is needed. Exits non-zero on the first
failure.
"""
import sys
import time

import openai


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    mock = "--mock" in sys.argv
    base = args[0] if args else "http://127.0.0.1:8080"
    model = args[1] if len(args) > 1 else "SmolLM2-135M-Instruct"
    extra = {"mock_response": True} if mock else {}
    client = openai.OpenAI(base_url=base.rstrip("/") + "/v1", api_key="unused", max_retries=0, timeout=300)
    messages = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]

    listed = [m.id for m in client.models.list()]
    assert model in listed, f"{model} not in /v1/models: {listed}"
    print(f"models: {listed}")

    t = time.time()
    chat = client.chat.completions.create(model=model, messages=messages, max_tokens=32, temperature=0, extra_body=extra)
    assert chat.object == "chat.completion", chat
    reply = chat.choices[0].message.content
    assert chat.choices[0].message.role == "assistant" and reply, chat
    assert chat.choices[0].finish_reason in ("stop", "length"), chat
    assert chat.usage.completion_tokens > 0 and chat.usage.total_tokens == chat.usage.prompt_tokens + chat.usage.completion_tokens
    print(f"chat ({time.time() - t:.2f} s, {chat.usage.completion_tokens} tokens): {reply!r}")

    t = time.time()
    pieces, finish, usage, first_at = [], None, None, None
    stream = client.chat.completions.create(model=model, messages=messages, max_tokens=32, temperature=0, stream=True,
                                            stream_options={"include_usage": True}, extra_body=extra)
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk", chunk
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                first_at = first_at or time.time()
                pieces.append(choice.delta.content)
            finish = choice.finish_reason or finish
    streamed = "".join(pieces)
    assert streamed == reply, f"streamed {streamed!r} != whole {reply!r} (greedy)"
    assert finish in ("stop", "length") and usage is not None and usage.completion_tokens == chat.usage.completion_tokens
    print(f"chat stream ({len(pieces)} deltas, first after {(first_at or t) - t:.2f} s, total {time.time() - t:.2f} s): same text")
    if not mock:
        # The same conversation again: the prefix cache holds every full block of 16 prompt
        # tokens the first chat computed, all but the last token of the prompt at most.
        details = usage.prompt_tokens_details
        want = (chat.usage.prompt_tokens - 1) // 16 * 16
        assert details is not None and details.cached_tokens == want, (usage, want)
        print(f"prefix cache: {details.cached_tokens} of {usage.prompt_tokens} prompt tokens cached (usage.prompt_tokens_details)")

    completion = client.completions.create(model=model, prompt="The quick brown fox", max_tokens=12, temperature=0, extra_body=extra)
    assert completion.object == "text_completion" and completion.choices[0].text, completion
    text = "".join(c.choices[0].text for c in client.completions.create(
        model=model, prompt="The quick brown fox", max_tokens=12, temperature=0, stream=True, extra_body=extra) if c.choices)
    assert text == completion.choices[0].text, f"{text!r} != {completion.choices[0].text!r}"
    print(f"completion (whole and streamed): {completion.choices[0].text!r}")

    if not mock:
        check_logprobs(client, model)

    try:
        client.chat.completions.create(model=model, messages=messages, temperature="hot", extra_body=extra)
        raise AssertionError("a bad temperature was accepted")
    except openai.BadRequestError as e:
        assert e.status_code == 400 and e.body.get("param") == "temperature", e.body
        print(f"bad request -> 400: {e.body['message']}")
    try:
        client.chat.completions.create(model="no-such-model", messages=messages)
        raise AssertionError("an unknown model was accepted")
    except openai.NotFoundError as e:
        assert e.body.get("code") == "model_not_found", e.body
        print("unknown model -> 404")
    print("openai client check: OK")
    return 0


def check_logprobs(client: openai.OpenAI, model: str) -> None:
    """logprobs / top_logprobs on chat and logprobs on completions, as the client parses them."""
    # Accents and CJK: characters that byte-level BPE splits across tokens.
    messages = [{"role": "user", "content": "Write the words café, naïve and 日本語 in a sentence."}]
    chat = client.chat.completions.create(model=model, messages=messages, max_tokens=24, temperature=0,
                                          logprobs=True, top_logprobs=3)
    content = chat.choices[0].logprobs.content
    assert content and len(content) == chat.usage.completion_tokens, chat.choices[0].logprobs
    for entry in content:
        assert isinstance(entry.token, str) and isinstance(entry.logprob, float) and entry.logprob <= 0, entry
        assert entry.bytes == list(entry.token.encode("utf-8")), entry
        assert 1 <= len(entry.top_logprobs) <= 3, entry
        assert all(isinstance(t.token, str) and isinstance(t.logprob, float) for t in entry.top_logprobs), entry
        assert entry.top_logprobs[0].logprob >= entry.logprob - 1e-6, entry  # greedy: the most likely
    text = chat.choices[0].message.content
    assert "".join(e.token for e in content) == text, (content, text)
    assert bytes(b for e in content for b in e.bytes).decode("utf-8") == text
    streamed = []
    for chunk in client.chat.completions.create(model=model, messages=messages, max_tokens=24, temperature=0,
                                                logprobs=True, top_logprobs=3, stream=True):
        for choice in chunk.choices:
            if choice.logprobs and choice.logprobs.content:
                streamed += choice.logprobs.content
    assert [(e.token, e.logprob, [(t.token, t.logprob) for t in e.top_logprobs]) for e in streamed] == \
        [(e.token, e.logprob, [(t.token, t.logprob) for t in e.top_logprobs]) for e in content], "streamed chat logprobs differ"
    print(f"chat logprobs (whole and streamed, {len(content)} tokens): {[e.token for e in content[:8]]} ...")

    prompt = "Le café est"
    completion = client.completions.create(model=model, prompt=prompt, max_tokens=12, temperature=0, logprobs=2)
    choice = completion.choices[0]
    lp = choice.logprobs
    n = len(lp.tokens)
    assert n == completion.usage.completion_tokens and len(lp.token_logprobs) == n == len(lp.text_offset) == len(lp.top_logprobs), lp
    assert "".join(lp.tokens) == choice.text, (lp.tokens, choice.text)
    offset = 0
    for token, value, top, at in zip(lp.tokens, lp.token_logprobs, lp.top_logprobs, lp.text_offset):
        assert at == offset, (at, offset)
        offset += len(token)
        assert isinstance(value, float) and top.get(token) == value and 1 <= len(top) <= 3, (token, value, top)
    pieces = {"tokens": [], "token_logprobs": [], "top_logprobs": [], "text_offset": []}
    for chunk in client.completions.create(model=model, prompt=prompt, max_tokens=12, temperature=0, logprobs=2,
                                           stream=True):
        for c in chunk.choices:
            if c.logprobs:
                for key in pieces:
                    pieces[key] += getattr(c.logprobs, key)
    assert pieces == {key: getattr(lp, key) for key in pieces}, "streamed completion logprobs differ"
    print(f"completion logprobs (whole and streamed): {lp.tokens[:8]} ...")


if __name__ == "__main__":
    sys.exit(main())
