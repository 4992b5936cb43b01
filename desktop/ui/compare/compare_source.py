"""What Compare takes from the Chat tab, read in one place: the models its picker offers
(local, built in and remote), the open conversation, the message being typed, and how the
tab asks (sampling, identity, the prompt mode remembered for each model)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from desktop.core.chat.chat_request import ChatRequest
from desktop.core.chat.generation import ChatMessage, LoadSettings
from desktop.core.chat.prompt_builder import MODES, PromptMode

if TYPE_CHECKING:
    from desktop.ui.chat.chat_tab import ChatTab


@dataclass
class CompareSource:
    choices: list[tuple[str, str]]  # (label, model path) as the Chat tab lists them
    loaded_path: str = ""
    conversation_title: str = ""
    history: list[ChatMessage] = field(default_factory=list)  # system prompt first
    draft: str = ""
    make_request: Callable[[Sequence[ChatMessage]], ChatRequest] = lambda m: ChatRequest(tuple(m))
    load_settings: LoadSettings = field(default_factory=LoadSettings)
    modes: dict[str, str] = field(default_factory=dict)  # model path -> prompt mode

    def request(self, messages: Sequence[ChatMessage], path: str) -> ChatRequest:
        """The Chat tab's request for `messages`, in the mode that model is asked in
        there (none remembered: its own - the chat template, or the base-model prompt)."""
        mode = self.modes.get(path)
        chosen: PromptMode | None = mode if mode in MODES else None
        return replace(self.make_request(messages), mode=chosen, top_alternatives=0)


def source_from_chat(chat: ChatTab) -> CompareSource:
    combo = chat.model_bar.combo
    choices = [(combo.itemText(i), str(combo.itemData(i))) for i in range(combo.count())]
    history: list[ChatMessage] = []
    title = ""
    if chat.conversation_id is not None:
        history = chat.store.chat_messages(chat.conversation_id)
        title = chat.store.get_conversation(chat.conversation_id).title
    try:
        modes = json.loads(chat.settings.get("chat/prompt_modes") or "{}")
    except ValueError:
        modes = {}
    return CompareSource(
        choices=choices,
        loaded_path=chat.model.path if chat.model is not None else "",
        conversation_title=title,
        history=history,
        draft=chat.composer.edit.toPlainText().strip(),
        make_request=chat.make_request,
        load_settings=chat.panel.load_settings(),
        modes=modes if isinstance(modes, dict) else {},
    )
