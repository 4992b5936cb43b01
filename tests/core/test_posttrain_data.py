"""Fine-tuning data: the JSONL reader names bad lines, the chat template's assistant turns
are what carries the loss, long conversations are cut or dropped and counted, epochs see
every conversation once, and the identity set maker writes what it promises."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from desktop.core.chat.chat_template import render_chat_template
from desktop.core.models.gguf_writer import CHATML_TEMPLATE
from desktop.core.posttrain.chat_data import Conversation, Message, conversation, parse_chat_lines
from desktop.core.posttrain.chat_masking import MaskingError, mask_conversation
from desktop.core.posttrain.chat_tokenizer import TrainedChatTokenizer
from desktop.core.posttrain.identity import Identity, identity_pairs
from desktop.core.posttrain.sft_data import ChatBatches, batch_of, prepare_chat_data
from desktop.core.train.bpe import train_bpe

TEXT = ("The quick brown fox jumps over the lazy dog. What is your name? My name is Ada. "
        "Who made you? The Lab made me. I don't know.\n") * 20  # fmt: skip


@pytest.fixture(scope="module")
def tokenizer() -> TrainedChatTokenizer:
    return TrainedChatTokenizer(train_bpe(TEXT, 300))


def chatml(messages: Sequence[Mapping[str, str]], add: bool) -> str:
    return render_chat_template(CHATML_TEMPLATE, messages, add_generation_prompt=add)


def learned_text(tok: TrainedChatTokenizer, ids: np.ndarray, mask: np.ndarray) -> list[str]:
    """The runs of learned tokens, as text."""
    runs, current = [], b""
    for token, learned in zip(ids, mask, strict=True):
        if learned:
            current += tok.piece(int(token))
        elif current:
            runs.append(current.decode())
            current = b""
    if current:
        runs.append(current.decode())
    return runs


def line(*messages: object) -> str:
    return json.dumps({"messages": list(messages)})


def test_bad_lines_are_named_and_skipped() -> None:
    hi, hello = {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}
    lines = [
        line(hi, hello),
        "{not json",
        json.dumps({"prompt": "old format", "completion": "x"}),
        line({"role": "user", "content": "Only a question"}),
        line(hi, {"role": "tool", "content": "42"}),
        line({"role": "user", "content": [{"type": "image_url"}]}, hello),
        "",
        line({"role": "user", "content": [{"type": "text", "text": "Hi"}]}, hello | {"weight": 1}),
        json.dumps(["a list"]),
    ]
    data = parse_chat_lines(lines)
    assert [c.line for c in data.conversations] == [1, 8]
    reasons = {b.line: b.reason for b in data.bad_lines}
    assert set(reasons) == {2, 3, 4, 5, 6, 9}
    assert reasons[2].startswith("not JSON")
    assert "messages" in reasons[3]
    assert "no assistant message" in reasons[4]
    assert "tool" in reasons[5]
    assert "other than text" in reasons[6]
    assert "line 2: not JSON" in data.summary()


def test_only_the_assistants_turns_and_their_end_markers_are_learned(tokenizer) -> None:
    conv = Conversation((
        Message("system", "You are Ada."),
        Message("user", "What is your name?"),
        Message("assistant", "My name is Ada."),
        Message("user", "Who made you?"),
        Message("assistant", "The Lab made me."),
    ))  # fmt: skip
    example = mask_conversation(conv, chatml, tokenizer.encode)
    assert example.text == chatml([m.to_dict() for m in conv.messages], False)
    assert np.array_equal(example.ids, tokenizer.encode(example.text))  # one tokenization
    assert learned_text(tokenizer, example.ids, example.mask) == [
        "My name is Ada.<|im_end|>",
        "The Lab made me.<|im_end|>",
    ]


def test_an_assistant_turn_with_weight_zero_is_context(tokenizer) -> None:
    conv = Conversation((
        Message("user", "What is your name?"), Message("assistant", "I am a model.", trained=False),
        Message("user", "Really?"), Message("assistant", "My name is Ada."),
    ))  # fmt: skip
    example = mask_conversation(conv, chatml, tokenizer.encode)
    assert learned_text(tokenizer, example.ids, example.mask) == ["My name is Ada.<|im_end|>"]


def test_a_template_that_rewrites_earlier_turns_is_refused_with_a_reason(tokenizer) -> None:
    def last_turn_only(messages: Sequence[Mapping[str, str]], add: bool) -> str:
        last = messages[-1] if messages else {"role": "user", "content": ""}
        return chatml([last], add)

    conv = conversation([("Hi", "Hello."), ("What is your name?", "Ada.")])
    with pytest.raises(MaskingError, match="turn by turn"):
        mask_conversation(conv, last_turn_only, tokenizer.encode)


def test_long_conversations_are_cut_or_dropped_and_counted(tokenizer) -> None:
    short = conversation([("Hi", "Hello.")])
    long_answer = conversation([("Hi", "The quick brown fox jumps over the lazy dog. " * 12)])
    long_question = conversation([("The quick brown fox jumps over the lazy dog. " * 12, "Yes.")])
    convs = [short, long_answer, long_question, short]
    prepared = prepare_chat_data(convs, chatml, tokenizer.encode, context=40, validation_share=0)
    assert (prepared.cut, prepared.dropped) == (1, 1)  # the answer is cut; the question leaves none
    assert len(prepared.train) == 3 and all(len(e) <= 41 for e in prepared.train)
    assert prepared.validation_is_training  # four are too few to hold any out
    dropped = prepare_chat_data(convs, chatml, tokenizer.encode, context=40, truncation="drop",
                                validation_share=0)  # fmt: skip
    assert (dropped.cut, dropped.dropped, len(dropped.train)) == (0, 2, 2)
    assert "1 cut, 1 dropped" in prepared.summary()


def test_held_out_conversations_are_never_trained_on_and_give_the_sample_questions(
    tokenizer,
) -> None:
    convs = [conversation([(f"Question {n}?", f"Answer {n}.")]) for n in range(20)]
    prepared = prepare_chat_data(convs, chatml, tokenizer.encode, context=64, seed=3)
    assert (len(prepared.train), len(prepared.validation)) == (18, 2)
    trained = {e.text for e in prepared.train}
    assert not trained & {e.text for e in prepared.validation}
    assert len(prepared.prompts) == 2
    for prompt in prepared.prompts:
        text = b"".join(tokenizer.piece(i) for i in prompt.ids).decode()
        assert text.endswith("<|im_start|>assistant\n") and prompt.question in text
        assert not any(prompt.question in t for t in trained)


def test_a_conversation_that_cannot_be_rendered_is_a_named_bad_line(tokenizer) -> None:
    def picky(messages: Sequence[Mapping[str, str]], add: bool) -> str:
        if any("forbidden" in m["content"] for m in messages):
            raise ValueError("the chat template refused this conversation")
        return chatml(messages, add)

    convs = [conversation([("Hi", "Hello.")]), conversation([("forbidden", "No.")])]
    convs[1] = Conversation(convs[1].messages, line=7)
    prepared = prepare_chat_data(convs, picky, tokenizer.encode, context=64)
    assert [str(b) for b in prepared.bad_lines] == [
        "line 7: the chat template refused this conversation"
    ]


def test_every_conversation_once_per_epoch_and_a_resumed_run_draws_the_same(tokenizer) -> None:
    convs = [conversation([(f"Q{n}", "A" * (n % 5 + 1))]) for n in range(10)]
    prepared = prepare_chat_data(convs, chatml, tokenizer.encode, context=64, validation_share=0)
    rng = np.random.default_rng(0)
    batches = ChatBatches(prepared.train, prepared.validation, tokenizer.pad_id, seed=1)
    seen = [batches.train_batch(rng, 5, 64) for _ in range(4)]  # two epochs
    texts = [tuple(row) for b in seen for row in b.inputs.tolist()]
    assert len(set(texts[:10])) == 10 and len(set(texts[10:])) == 10
    assert texts[:10] != texts[10:]  # each epoch in its own order
    again = ChatBatches(prepared.train, prepared.validation, tokenizer.pad_id, seed=1,
                        start_row=10)  # fmt: skip
    np.testing.assert_array_equal(again.train_batch(rng, 5, 64).inputs, seen[2].inputs)


def test_rows_are_padded_with_weightless_tokens(tokenizer) -> None:
    convs = [conversation([("Hi", "Hello there, friend.")]), conversation([("Hi", "Yo.")])]
    prepared = prepare_chat_data(convs, chatml, tokenizer.encode, context=64, validation_share=0)
    batch = batch_of(prepared.train, tokenizer.pad_id, 64)
    short = min(prepared.train, key=len)
    row = next(i for i, e in enumerate(prepared.train) if e is short)
    assert batch.inputs.shape[1] == max(len(e) for e in prepared.train) - 1
    assert np.all(batch.weights[row, len(short) - 1 :] == 0)
    assert batch.weights.sum() == sum(e.mask[1:].sum() for e in prepared.train)


def test_the_identity_set_says_the_name_many_ways() -> None:
    identity = Identity("Ada", "the Lab", ("I run offline on your laptop",), "friendly")
    pairs = identity_pairs(identity, 60)
    assert len(pairs) == 60
    assert pairs[0][0] == "What is your name?" and "Ada" in pairs[0][1]
    assert len({q for q, _ in pairs}) >= 30  # many wordings of the questions
    assert len({a for _, a in pairs}) >= 20  # and of the answers
    assert any("I run offline on your laptop." in a for _, a in pairs)
    assert all(a[0].isupper() for _, a in pairs)  # "the Lab made me" starts a sentence
    name_questions = [a for q, a in pairs if "name" in q.lower()]
    assert name_questions and all("Ada" in a for a in name_questions)
    assert identity_pairs(identity, 60) == pairs  # the same seed, the same set
    formal = identity_pairs(Identity("Ada", "the Lab", tone="formal"), 5)
    assert formal[0][1] != pairs[0][1]
    with pytest.raises(ValueError, match="name and a maker"):
        Identity("", "the Lab")
