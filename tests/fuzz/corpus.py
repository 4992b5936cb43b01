"""A seeded generator of hostile inputs: crafted GGUF files, chat templates, question files
and model replies. Case `index` of seed `seed` is always the same bytes, whatever else is
generated, so a failing case can be replayed alone (see tests/fuzz/test_fuzz_corpus.py;
`make fuzz` runs many).

GGUFs are built field by field by `GGUFBuilder`, which remembers where every count,
length, type, dimension and offset is, so mutations aim at the fields a parser trusts:
truncations, huge counts and lengths, wrong types, absurd tensor shapes and offsets,
strings that are not UTF-8, hostile chat templates, long names full of HTML.
"""

from __future__ import annotations

import json
import random
import struct
from dataclasses import dataclass, field

GGUF_MUTATIONS = (
    "truncate",
    "flip_bytes",
    "huge_count",
    "wrong_type",
    "absurd_shape",
    "bad_offset",
    "non_utf8",
    "hostile_template",
    "html_name",
    "odd_alignment",
    "duplicate_key",
    "many_mutations",
)
_STRING, _ARRAY, _U32, _U64 = 8, 9, 4, 10
_EXTREMES = (0, 1, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**62, 2**63 - 1, 2**63, 2**64 - 1)


@dataclass
class GGUFBuilder:
    """A GGUF written field by field; `fields` maps a kind ("count", "length", "type",
    "dim", "n_dims", "offset", "string") to the (position, size) of each such field."""

    data: bytearray = field(default_factory=bytearray)
    fields: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def put(self, kind: str, raw: bytes) -> None:
        self.fields.setdefault(kind, []).append((len(self.data), len(raw)))
        self.data += raw

    def u32(self, kind: str, value: int) -> None:
        self.put(kind, struct.pack("<I", value))

    def u64(self, kind: str, value: int) -> None:
        self.put(kind, struct.pack("<Q", value))

    def string(self, text: str | bytes) -> None:
        raw = text.encode() if isinstance(text, str) else text
        self.u64("length", len(raw))
        self.put("string", raw)

    def kv_string(self, key: str, value: str | bytes) -> None:
        self.string(key)
        self.u32("type", _STRING)
        self.string(value)

    def kv_u32(self, key: str, value: int) -> None:
        self.string(key)
        self.u32("type", _U32)
        self.put("value", struct.pack("<I", value))

    def kv_strings(self, key: str, items: list[str]) -> None:
        self.string(key)
        self.u32("type", _ARRAY)
        self.u32("type", _STRING)
        self.u64("count", len(items))
        for item in items:
            self.string(item)

    def tensor(self, name: str, dims: tuple[int, ...], ggml_type: int, offset: int) -> None:
        self.string(name)
        self.u32("n_dims", len(dims))
        for d in dims:
            self.u64("dim", d)
        self.u32("type", ggml_type)
        self.u64("offset", offset)


def base_gguf(
    *,
    template: str | bytes | None = None,
    name: str | bytes = "fuzz model",
    extra_templates: dict[str, str] | None = None,
) -> GGUFBuilder:
    """A small GGUF that passes the file check: a llama header, a 300-token vocabulary (more
    than the header parser keeps, so the skipping path runs too), three F32 tensors.
    `extra_templates`: named ones, `tokenizer.chat_template.<name>`."""
    extra = extra_templates or {}
    b = GGUFBuilder()
    tensors = [
        ("token_embd.weight", (8, 4)),
        ("output_norm.weight", (8,)),
        ("output.weight", (8, 4)),
    ]
    kvs = 8 + (template is not None) + len(extra)
    b.put("magic", b"GGUF")
    b.u32("version", 3)
    b.u64("count", len(tensors))
    b.u64("count", kvs)
    b.kv_string("general.architecture", "llama")
    b.kv_string("general.name", name)
    b.kv_u32("llama.context_length", 2048)
    b.kv_u32("llama.block_count", 1)
    b.kv_u32("llama.embedding_length", 8)
    b.kv_u32("llama.attention.head_count", 2)
    b.kv_string("tokenizer.ggml.model", "gpt2")
    b.kv_strings("tokenizer.ggml.tokens", [f"t{i}" for i in range(300)])
    if template is not None:
        b.kv_string("tokenizer.chat_template", template)
    for template_name, text in extra.items():
        b.kv_string(f"tokenizer.chat_template.{template_name}", text)
    offset = 0
    for tensor_name, dims in tensors:
        b.tensor(tensor_name, dims, 0, offset)
        offset += -(-4 * _product(dims) // 32) * 32
    b.put("padding", bytes(-len(b.data) % 32))
    b.put("tensor_data", bytes(offset))
    return b


def _product(dims: tuple[int, ...]) -> int:
    n = 1
    for d in dims:
        n *= d
    return n


def hostile_templates() -> list[str]:
    """Templates that attack the compiler (nesting, size) and ones that are merely odd."""
    return [
        "{% if x %}" * 2000 + "{% endif %}" * 2000,
        "{% if x %}" * 150 + "{% endif %}" * 150,
        "{% for a in b %}" * 120 + "{% endfor %}" * 120,
        "{{" + "(" * 3000 + "1" + ")" * 3000 + "}}",
        "{{ " + "not " * 3000 + "x }}",
        "{{ x" + "|e" * 1500 + " }}",
        "{{ x" + ".a" * 1500 + " }}",
        "{{ 1" + "+1" * 1500 + " }}",
        "{% macro m() %}" * 200 + "{% endmacro %}" * 200,
        "x" * 300_000,
        "{% for m in messages %}{{ m | }}",
        "{% raw %}" * 50,
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{% set x = 'a' * 10**9 %}{{ x }}",
        "{{ range(10**12) | list }}",
        "\x00{{ messages }}\udcff".encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
    ]


def random_template(rng: random.Random) -> str:
    """Random tag soup: valid pieces, unbalanced blocks, deep nesting of random kinds."""
    pieces = [
        "{% if x %}", "{% endif %}", "{% for m in messages %}", "{% endfor %}", "{{ m.content }}",
        "{% set a = 1 %}", "{{ (", ") }}", "{% else %}", "{% generation %}",
        "{% endgeneration %}", "{{ raise_exception('no') }}", "{#", "#}", "text", "\n",
        "{% macro f(x) %}", "{% endmacro %}", "{{ f(1) }}", "{% break %}", "{{ [", "] }}",
    ]  # fmt: skip
    if rng.random() < 0.3:  # one piece repeated deep enough to test the recursion guards
        opener, closer = rng.choice([("{% if x %}", "{% endif %}"), ("{{ (", ") }}"),
                                     ("{% for a in b %}", "{% endfor %}"),
                                     ("{{ [", "] }}")])  # fmt: skip
        depth = rng.choice([50, 99, 101, 500, 1200])
        return opener * depth + closer * depth
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, 60)))


def html_names(rng: random.Random) -> list[str]:
    return [
        "<b>bold</b><img src='/etc/passwd'><script>alert(1)</script>" * rng.randint(1, 2000),
        "<a href='javascript:alert(1)'>" + "A" * 100_000 + "</a>",
        "\u202e" + "fdp.exe" + "<br>" * 1000,  # right-to-left override
        "\n".join(["line"] * 5000),
    ]


def case_rng(seed: int, corpus: str, index: int) -> random.Random:
    return random.Random(f"{seed}/{corpus}/{index}")  # str seeds hash the same every run


def gguf_case(seed: int, index: int) -> tuple[str, bytes]:
    """One crafted GGUF: (a label saying how it was made, its bytes)."""
    rng = case_rng(seed, "gguf", index)
    kind = GGUF_MUTATIONS[index % len(GGUF_MUTATIONS)]
    if kind == "hostile_template":
        templates = hostile_templates()
        template = templates[index // len(GGUF_MUTATIONS) % len(templates)]
        if rng.random() < 0.5:
            template = random_template(rng)
        if rng.random() < 0.25:  # a named template, as llama-cpp-python compiles those too
            named = base_gguf(template="{{ messages }}", extra_templates={"tool_use": template})
            return f"{index}-{kind}-named", bytes(named.data)
        return f"{index}-{kind}", bytes(base_gguf(template=template).data)
    if kind == "html_name":
        return f"{index}-{kind}", bytes(base_gguf(name=rng.choice(html_names(rng))).data)
    b = base_gguf(template="{% for m in messages %}{{ m.content }}{% endfor %}")
    data = bytearray(b.data)
    for _ in range(rng.randint(2, 6) if kind == "many_mutations" else 1):
        step = rng.choice(GGUF_MUTATIONS[:7]) if kind == "many_mutations" else kind
        _mutate(rng, step, b, data)
    return f"{index}-{kind}", bytes(data)


def _mutate(rng: random.Random, kind: str, b: GGUFBuilder, data: bytearray) -> None:
    """Mutate `data` (b's bytes, perhaps mutated already: positions past a truncation or an
    insertion are skipped or land elsewhere, which is fine for a fuzzer)."""
    header_end = b.fields["padding"][0][0]
    if not data:
        return
    if kind == "truncate":
        del data[rng.randrange(len(data)) :]
    elif kind == "flip_bytes":
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(min(header_end, len(data)))] = rng.randrange(256)
    elif kind in ("huge_count", "absurd_shape", "bad_offset"):
        which = {"huge_count": rng.choice(["count", "length"]), "absurd_shape": "dim",
                 "bad_offset": "offset"}[kind]  # fmt: skip
        position, _ = rng.choice(b.fields[which])
        value = rng.choice(_EXTREMES) if rng.random() < 0.7 else rng.getrandbits(64)
        if kind == "absurd_shape" and rng.random() < 0.3:
            position, _ = rng.choice(b.fields["n_dims"])
            _write(data, position, struct.pack("<I", rng.choice([0, 5, 64, 2**32 - 1])))
            return
        _write(data, position, struct.pack("<Q", value))
    elif kind == "wrong_type":
        position, _ = rng.choice(b.fields["type"])
        _write(data, position, struct.pack("<I", rng.choice([*range(14), 99, 2**31])))
    elif kind == "non_utf8":
        position, size = rng.choice([f for f in b.fields["string"] if f[1] > 0])
        _write(
            data, position, bytes(rng.choice(b"\x80\xbf\xc0\xff\xed\xf8\x00") for _ in range(size))
        )
    elif kind == "odd_alignment":
        extra = GGUFBuilder()
        extra.kv_string("general.alignment", "32") if rng.random() < 0.3 else extra.kv_u32(
            "general.alignment", rng.choice([0, 1, 3, 48, 2**31, 2**32 - 1])
        )
        _insert_kv(b, data, bytes(extra.data))
    elif kind == "duplicate_key":
        extra = GGUFBuilder()
        extra.kv_string("general.architecture", "llama")
        _insert_kv(b, data, bytes(extra.data))


def _write(data: bytearray, position: int, raw: bytes) -> None:
    if position + len(raw) <= len(data):
        data[position : position + len(raw)] = raw


def _insert_kv(b: GGUFBuilder, data: bytearray, kv: bytes) -> None:
    """One more metadata entry, after the others (the count is raised to match)."""
    count_position = b.fields["count"][1][0]
    first_tensor = b.fields["length"][-3][0]  # the name of the first of the three tensors
    if first_tensor > len(data):
        return
    (n_kv,) = struct.unpack_from("<Q", data, count_position)
    data[count_position : count_position + 8] = struct.pack("<Q", (n_kv + 1) % 2**64)
    data[first_tensor:first_tensor] = kv


# --- question files (JSONL / CSV) and model replies ---

QUIZ_KINDS = (
    "deep_nesting",
    "big_number",
    "odd_values",
    "formulas_csv",
    "broken_utf8",
    "random_jsonl",
    "random_csv",
    "mutated_jsonl",
)


def quiz_case(seed: int, index: int) -> tuple[str, str, bytes]:
    """One crafted question file: (label, suffix, bytes)."""
    rng = case_rng(seed, "quiz", index)
    kind = QUIZ_KINDS[index % len(QUIZ_KINDS)]
    good = {"question": "Who?", "answer": "Curie"}
    if kind == "deep_nesting":
        depth = rng.choice([500, 999, 1001, 5000, 100_000])
        opener, closer = rng.choice([("[", "]"), ('{"a": ', "}")])
        line = '{"question": ' + opener * depth + "1" + closer * depth + ', "answer": "a"}'
        return f"{index}-{kind}", ".jsonl", (json.dumps(good) + "\n" + line + "\n").encode()
    if kind == "big_number":
        digits = rng.choice([50, 101, 4300, 4301, 5000, 100_000])
        number = rng.choice(["", "-"]) + "9" * digits + rng.choice(["", ".5", "e5", "e999999"])
        line = '{"question": "q", "answer": ' + number + "}"
        return f"{index}-{kind}", ".jsonl", (line + "\n").encode()
    if kind == "odd_values":
        value = rng.choice(["NaN", "Infinity", "-Infinity", "true", "null", "[]", "{}", '""',
                            '"\\ud800"', '"\\u0000"', "1e400", "-0"])  # fmt: skip
        line = '{"question": "q", "answer": ' + value + "}"
        return f"{index}-{kind}", ".jsonl", (line + "\n").encode()
    if kind == "formulas_csv":
        cells = ["=HYPERLINK(\"http://x\",\"y\")", "=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)",
                 "\t=1", "\r=1", "'=1", "''", "a\rb", '"quoted"', "x,y"]  # fmt: skip
        rows = ["question,answer,source"] + [
            ",".join(_csv_quote(rng.choice(cells)) for _ in range(3)) for _ in range(5)
        ]
        return f"{index}-{kind}", ".csv", "\n".join(rows).encode()
    if kind == "broken_utf8":
        raw = (json.dumps(good) + "\n").encode()
        at = rng.randrange(len(raw))
        suffix = rng.choice([".jsonl", ".csv"])
        return (
            f"{index}-{kind}",
            suffix,
            raw[:at] + bytes([rng.choice([0x80, 0xFF, 0xC3])]) + raw[at:],
        )
    if kind == "random_jsonl":
        lines = [json.dumps(_random_json(rng, 4)) for _ in range(rng.randint(1, 8))]
        return f"{index}-{kind}", ".jsonl", "\n".join(lines).encode("utf-8", "surrogatepass")
    if kind == "random_csv":
        alphabet = ",\"\n\r\t'=+-@ abc\u2028é"
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
        header = rng.choice(["question,answer\n", "Question , ANSWER,source\n", ""])
        return f"{index}-{kind}", ".csv", (header + text).encode()
    raw = bytearray((json.dumps(good) + "\n" + json.dumps(good) + "\n").encode())
    for _ in range(rng.randint(1, 6)):
        raw[rng.randrange(len(raw))] = rng.randrange(256)
    return f"{index}-{kind}", ".jsonl", bytes(raw)


def _csv_quote(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


def _random_json(rng: random.Random, depth: int) -> object:
    choice = rng.randrange(8 if depth > 0 else 5)
    if choice == 0:
        return rng.choice(["", "Who?", "Curie", "\u0000", "\ud800", "=1+1", "  "])
    if choice == 1:
        return rng.choice([0, -1, 1889, 2**70, 3.10, 1e308])
    if choice == 2:
        return rng.choice([True, False, None])
    if choice in (3, 4):
        return {"question": _random_json(rng, depth - 1), "answer": _random_json(rng, depth - 1)}
    if choice == 5:
        return [_random_json(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    keys = ["question", "Question", "ANSWER", "answer", "source", "x"]
    return {rng.choice(keys): _random_json(rng, depth - 1) for _ in range(rng.randint(0, 4))}


def template_case(seed: int, index: int) -> str:
    """A hostile template, then random ones."""
    fixed = hostile_templates()
    return fixed[index] if index < len(fixed) else random_template(case_rng(seed, "jinja", index))


def reply_case(seed: int, index: int) -> str:
    """What a model might write when asked for question–answer pairs, at its worst."""
    rng = case_rng(seed, "reply", index)
    fragments = ["Q: ", "A: ", "Question:", "Answer:", "**", "1. ", "| Q | A |", "|---|---|",
                 "[", "]", "{", "}", '"question": ', '"answer": ', "\n", "\n\n", "Curie", "?",
                 "9" * 5000, "<think>", "</think>", ","]  # fmt: skip
    if index % 4 == 0:  # a degenerate model repeating one token
        return rng.choice(["[", "{", '{"questions": ', "Q: ", "**"]) * rng.randint(500, 5000)
    return "".join(rng.choice(fragments) for _ in range(rng.randint(1, 200)))
