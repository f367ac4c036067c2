#!/usr/bin/env python3
"""Renders the chat_template of a tokenizer_config.json for every case of chat_cases.json the way
transformers' apply_chat_template does (jinja2 sandbox, trim_blocks + lstrip_blocks, its tojson filter and
raise_exception) and compares with the expected prompt, which render_chat must also produce
(src/tokenizer/tokenizer_json_writer_test.cc).

    python3 check_chat_template.py TOKENIZER_DIR chat_cases.json
"""
import json
import sys

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # transformers' replacement for jinja2's HTML-escaping tojson
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def main():
    tokenizer_dir, cases_path = sys.argv[1], sys.argv[2]
    with open(f"{tokenizer_dir}/tokenizer_config.json", encoding="utf-8") as f:
        config = json.load(f)
    with open(cases_path, encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    template = env.from_string(config["chat_template"])
    failures = 0
    for case in cases:
        kwargs = {"messages": case["messages"], "add_generation_prompt": case["add_generation_prompt"],
                  "bos_token": config["bos_token"], "eos_token": config["eos_token"]}
        if "tools" in case:
            kwargs["tools"] = case["tools"]
        got = template.render(**kwargs)
        if got != case["expected"]:
            failures += 1
            print(f"MISMATCH {case['name']}:\n  template:    {got!r}\n  render_chat: {case['expected']!r}",
                  file=sys.stderr)
    # A system message after the first turn is an error on both sides.
    try:
        template.render(messages=[{"role": "user", "content": "x"}, {"role": "system", "content": "late"}])
        failures += 1
        print("MISMATCH: a late system message was accepted", file=sys.stderr)
    except jinja2.exceptions.TemplateError:
        pass
    print(f"{tokenizer_dir}: chat template, {len(cases)} cases, {failures} differences")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
