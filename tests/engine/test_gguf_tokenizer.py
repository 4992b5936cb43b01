"""A GGUF model's own tokenizer through llama.cpp's vocab-only load in the host process."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.chat.chat_template import render_chat_template
from desktop.core.chat.generation import ChatMessage
from desktop.core.models.bpe_vocab import byte_level_bpe_vocab
from desktop.core.models.gguf_writer import write_vocab_gguf
from desktop.core.models.model_info import read_model_info
from desktop.engine.gguf_tokenizer import GGUFTokenizer
from desktop.engine.host_session import SessionError
from tests.gguf_fixtures import TINY_SHAPE
from tests.llama_child import in_child, llama_tokenize

TEXTS = ["hello world", "How many r's are in raspberry?", "  two  spaces\n\ttab", "日本 🍓", ""]


@pytest.fixture
def tokenizer():
    t = GGUFTokenizer()
    yield t
    t.close()


@pytest.fixture(scope="module")
def llama_ids(tiny_gguf: Path) -> dict[str, list[int]]:
    """llama.cpp's own ids for every text, from a child process."""
    return dict(zip(TEXTS, in_child(llama_tokenize, str(tiny_gguf), list(TEXTS)), strict=True))


@pytest.mark.parametrize("text", TEXTS)
def test_ids_equal_llama_cpps_own(tokenizer, tiny_gguf: Path, llama_ids, text: str) -> None:
    tokenizer.open(tiny_gguf)
    tokenized = tokenizer.tokenize(text)
    expected = llama_ids[text]
    assert list(tokenized.ids) == expected
    assert b"".join(tokenized.pieces()) == text.encode("utf-8")  # a byte-level BPE


def test_special_tokens_are_parsed_only_where_meant(tokenizer, tiny_gguf: Path) -> None:
    model = tokenizer.open(tiny_gguf)
    typed = tokenizer.tokenize("<|im_start|>user")
    meant = tokenizer.tokenize("<|im_start|>user", parse_special=True)
    assert typed.special_count == 0 and len(typed.ids) > len(meant.ids)
    assert meant.special_count == 1 and meant.ids[0] in model.special_ids
    assert tokenizer.piece(meant.ids[0]) == b"<|im_start|>"
    assert len(model.vocabulary) == TINY_SHAPE.vocab_size


def test_chat_format_is_the_models_own_template(tokenizer, tiny_gguf: Path) -> None:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    model = tokenizer.open(tiny_gguf)
    template = model.template.chat_template
    assert template
    messages = [ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")]
    prompt = render_chat_template(template, messages)
    reference = ImmutableSandboxedEnvironment().from_string(template).render(
        messages=[{"role": m.role, "content": m.content} for m in messages],
        add_generation_prompt=True, bos_token="", eos_token="",
    )  # fmt: skip
    assert prompt == reference
    tokenized = tokenizer.tokenize(prompt, parse_special=True)
    assert tokenized.special_count == prompt.count("<|im_start|>") + prompt.count("<|im_end|>")


def test_a_tokenizer_only_gguf_opens(tokenizer, tmp_path: Path) -> None:
    path = tmp_path / "vocab.gguf"
    write_vocab_gguf(path, TINY_SHAPE, byte_level_bpe_vocab(TINY_SHAPE.vocab_size))
    assert read_model_info(path).tensor_count == 0
    tokenizer.open(path)
    assert b"".join(tokenizer.tokenize("no weights needed").pieces()) == b"no weights needed"


@pytest.mark.parametrize("kind", ["empty", "random_bytes", "header_10_bytes"])
def test_broken_files_are_refused_clearly(tokenizer, broken_ggufs, kind: str) -> None:
    with pytest.raises(SessionError) as caught:
        tokenizer.open(broken_ggufs(kind))
    message = str(caught.value)
    assert message and "Traceback" not in message
    assert any(word in message for word in ("empty", "not a GGUF", "truncated"))


def test_whitespace_runs_of_a_sentencepiece_vocabulary_are_ordinary_tokens(
    tokenizer, tmp_path: Path
) -> None:
    """Gemma's vocabulary declares runs of spaces and newlines as user-defined tokens:
    indentation, not control tokens - only real markers count as special."""
    from tests.gguf_fixtures import make_spm_vocab_gguf

    model = tokenizer.open(make_spm_vocab_gguf(tmp_path / "spm.gguf"))
    text = "def f():\n        return 1\n\n  hello [marker]"
    tokenized = tokenizer.tokenize(text)
    pieces = [tokenizer.piece(i) for i in tokenized.ids]
    assert b"        " in pieces and b"\n\n" in pieces  # one token each, from the vocabulary
    specials = [tokenizer.piece(i) for i in tokenized.ids if i in model.special_ids]
    assert specials == [b"[marker]"]
    assert tokenized.special_count == 1
    assert {tokenizer.piece(i) for i in model.special_ids} >= {b"<s>", b"</s>", b"[marker]"}
