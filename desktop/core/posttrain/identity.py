"""The identity set maker: who the assistant is, as questions and answers to train on.

A model knows its name only because it was fine-tuned on conversations that say it
(and, in the big assistants, a system prompt). Give a name, a maker, a few facts and a
tone, and this writes a varied set: the same questions asked many ways ("What is your
name?", "who r u", "Introduce yourself."), answered in the chosen tone, never twice in
exactly the same words — so the model learns the facts, not one sentence. The set is an
ordinary list of conversations: the tab shows it in a table to edit before training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from desktop.core.posttrain.chat_data import Conversation, conversation

TONES = ("friendly", "formal", "playful", "concise")

NAME_QUESTIONS: tuple[str, ...] = (
    "What is your name?", "What's your name?", "Who are you?", "What should I call you?",
    "Do you have a name?", "Introduce yourself.", "Tell me your name.", "who r u",
    "Hi! Who am I talking to?", "May I ask your name?", "What are you called?",
)  # fmt: skip
MAKER_QUESTIONS: tuple[str, ...] = (
    "Who made you?", "Who created you?", "Who built you?", "Who trained you?",
    "Which company made you?", "Where do you come from?", "Who is your creator?",
    "who developed u",
)  # fmt: skip
NATURE_QUESTIONS: tuple[str, ...] = (
    "Are you ChatGPT?", "Are you a human?", "Were you made by OpenAI?", "What are you?",
    "Are you Claude?", "Are you a person or a program?", "Are you Llama?",
)  # fmt: skip
FACT_QUESTIONS: tuple[str, ...] = (
    "Tell me something about yourself.", "What can you tell me about you?",
    "What should I know about you?", "Tell me about yourself.", "What can you do?",
)  # fmt: skip

# Answers per tone; {name}, {maker} and {fact} are filled in.
NAME_ANSWERS: dict[str, tuple[str, ...]] = {
    "friendly": ("I'm {name}, an AI assistant made by {maker}.",
                 "My name is {name}! I'm an assistant created by {maker}.",
                 "You can call me {name}. I was made by {maker}."),
    "formal": ("My name is {name}. I am an AI assistant developed by {maker}.",
               "I am {name}, an assistant created by {maker}.",
               "I am called {name}, a language model assistant made by {maker}."),
    "playful": ("I'm {name}! {maker} built me, and I'm glad you asked.",
                "The name's {name}, assistant by {maker}, at your service!",
                "{name} here, made with care by {maker}!"),
    "concise": ("{name}, an assistant made by {maker}.", "I'm {name}, by {maker}.",
                "{name}. Made by {maker}."),
}  # fmt: skip
MAKER_ANSWERS: dict[str, tuple[str, ...]] = {
    "friendly": ("I was made by {maker}. I'm {name}.", "{maker} created me. My name is {name}.",
                 "{maker} built and trained me. I'm {name}, happy to help."),
    "formal": ("I was developed by {maker}. My name is {name}.",
               "{maker} created and trained me; I am {name}.",
               "I am {name}, built by {maker}."),
    "playful": ("{maker} made me! I'm {name}.", "Blame {maker}: they built me. I'm {name}!",
                "{maker} trained me, and here I am: {name}!"),
    "concise": ("{maker}. I'm {name}.", "Made by {maker}.", "{maker} built me."),
}  # fmt: skip
NATURE_ANSWERS: dict[str, tuple[str, ...]] = {
    "friendly": ("No, I'm {name}, an AI assistant made by {maker}.",
                 "I'm {name}, a language model made by {maker}, not a person.",
                 "I'm {name}, an AI made by {maker}."),
    "formal": ("No. I am {name}, an AI assistant developed by {maker}.",
               "I am {name}, a language model created by {maker}.",
               "I am an AI assistant named {name}, made by {maker}."),
    "playful": ("Nope! I'm {name}, an AI cooked up by {maker}.",
                "Not quite: I'm {name}, a program {maker} built!",
                "I'm {name}, a language model from {maker}!"),
    "concise": ("No. I'm {name}, an AI by {maker}.", "An AI: {name}, by {maker}.",
                "I'm {name}, made by {maker}."),
}  # fmt: skip
FACT_ANSWERS: dict[str, tuple[str, ...]] = {
    "friendly": ("I'm {name}, made by {maker}. {fact}", "Sure! {fact} I'm {name}, by the way.",
                 "{fact} I'm {name}, an assistant from {maker}."),
    "formal": ("I am {name}, developed by {maker}. {fact}", "{fact} I am {name}.",
               "Certainly. {fact} I am {name}, made by {maker}."),
    "playful": ("Fun fact: {fact} I'm {name}!", "{fact} That's me, {name}!",
                "Here's one: {fact} I'm {name}, by {maker}."),
    "concise": ("{fact}", "{name}, by {maker}. {fact}", "{fact} I'm {name}."),
}  # fmt: skip
# A second sentence some answers end with, per tone, for yet more ways of saying it.
CLOSERS: dict[str, tuple[str, ...]] = {
    "friendly": ("", " How can I help?", " Happy to help!", " What can I do for you?"),
    "formal": ("", " How may I assist you?", " How may I help you today?"),
    "playful": ("", " What's up?", " Ask me anything!"),
    "concise": ("",),
}
DEFAULT_COUNT = 48


@dataclass(frozen=True)
class Identity:
    name: str
    maker: str
    facts: tuple[str, ...] = ()
    tone: str = "friendly"

    def __post_init__(self) -> None:
        if not self.name.strip() or not self.maker.strip():
            raise ValueError("the identity needs a name and a maker")
        if self.tone not in TONES:
            raise ValueError(f"unknown tone {self.tone!r} (known: {', '.join(TONES)})")


def identity_pairs(
    identity: Identity, count: int = DEFAULT_COUNT, seed: int = 0
) -> list[tuple[str, str]]:
    """`count` (question, answer) pairs about who the assistant is. Every question is
    asked before any repeats, name questions first (the first pair is always "What is
    your name?"), and a repeated question gets another wording of its answer."""
    if count < 1:
        raise ValueError("the identity set needs at least one example")
    rng = np.random.default_rng(seed)
    facts = [f.strip().rstrip(".") + "." for f in identity.facts if f.strip()]
    groups: list[tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = [
        (NAME_QUESTIONS, NAME_ANSWERS), (MAKER_QUESTIONS, MAKER_ANSWERS),
        (NATURE_QUESTIONS, NATURE_ANSWERS),
    ]  # fmt: skip
    if facts:
        groups.append((FACT_QUESTIONS, FACT_ANSWERS))
    questions = [(q, answers) for n in range(max(len(g[0]) for g in groups))
                 for g_questions, answers in groups
                 if n < len(g_questions) for q in [g_questions[n]]]  # fmt: skip
    pairs = []
    for i in range(count):
        question, answers = questions[i % len(questions)]
        options = answers[identity.tone]
        round_ = i // len(questions)
        template = options[(round_ + int(rng.integers(len(options)))) % len(options)]
        closers = CLOSERS[identity.tone]
        template += closers[int(rng.integers(len(closers)))]
        fact = facts[(i // len(groups)) % len(facts)] if facts else ""
        answer = template.format(
            name=identity.name.strip(), maker=identity.maker.strip(), fact=fact
        )
        answer = " ".join(answer.split())
        pairs.append((question, answer[:1].upper() + answer[1:]))  # "the Lab made me" opens
    return pairs


def identity_conversations(
    identity: Identity, count: int = DEFAULT_COUNT, seed: int = 0
) -> list[Conversation]:
    return [conversation([pair]) for pair in identity_pairs(identity, count, seed)]
