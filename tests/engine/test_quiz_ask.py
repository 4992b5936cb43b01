"""A quiz ask through the model host: the request's own stop strings end a base model's
answer at its line end, and the prompt it read comes back with the reply; how the loaded
model is asked is read from it (name, template) unless the person chose."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop.core.chat.generation import ChatMessage, LoadSettings
from desktop.core.quiz.interrogation import interrogate, quiz_request
from desktop.core.quiz.qa import QAPair
from desktop.core.quiz.settings import QuizSettings
from desktop.engine import chat_turn
from desktop.engine.quiz_ask import ask, model_kind

STEM = "Apollo 11 was launched from Kennedy Space Center in Florida on"
REPLY = " 16 July 1969. It was a Saturn V.\nQuestion: and the next one?\nAnswer: 1970"


def loaded(scripted_session: Any, path: Path, **script: Any) -> Any:
    session = scripted_session(**script)
    session.load(str(path), LoadSettings(context_size=1024))
    return session


def test_a_base_models_answer_ends_at_its_line_end(
    scripted_session: Any, tiny_base_gguf: Path
) -> None:
    session = loaded(scripted_session, tiny_base_gguf, replies=[REPLY])
    request = quiz_request([ChatMessage("user", STEM)], temperature=0.7, max_tokens=64, seed=1,
                           mode="raw", stops=("\n",))  # fmt: skip
    reply = ask(session, request)
    assert reply.text == " 16 July 1969. It was a Saturn V."
    assert reply.stats.stop_reason == "stop"
    assert reply.prompt is not None and reply.prompt.plan.text == STEM
    # the chat path knows no such stop: the model would write on to the token limit
    assert "\nQuestion:" in chat_turn.ask(session, request).text


def test_a_quiz_through_the_host_keeps_each_prompt(
    scripted_session: Any, tiny_base_gguf: Path
) -> None:
    session = loaded(scripted_session, tiny_base_gguf, replies=[REPLY])
    kind, why = model_kind(session.model)
    assert (kind, why) == ("base", "its name says “base”")
    pair = QAPair("When was Apollo 11 launched?", "16 July 1969", "rules", stem=STEM)
    settings = QuizSettings(samples=1, asked_as=kind)
    closed, opened = interrogate([pair], "The article.", settings, lambda r: ask(session, r))
    assert (closed.text, closed.grade) == ("16 July 1969.", "CORRECT")
    assert closed.prompt is not None and opened.prompt is not None
    assert (closed.prompt.text, closed.prompt.stops) == (STEM, ("\n",))
    assert opened.prompt.text == f"The article.\n\n{STEM}"
    assert closed.prompt.tokens > 0  # as the model's own tokenizer counted them


def test_the_person_can_say_how_a_model_is_asked(scripted_session: Any, tiny_gguf: Path) -> None:
    session = loaded(scripted_session, tiny_gguf)
    assert model_kind(session.model)[0] == "instruct"  # "tiny-chat"
    assert model_kind(session.model, "base") == ("base", "chosen in the settings")
