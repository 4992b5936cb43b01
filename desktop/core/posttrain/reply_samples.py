"""Samples while fine-tuning: the model's own answers to a few held-out questions, greedy,
every few steps — so a class watches the assistant emerge ("What is your name?" → noise,
then "I am a language model", then "I'm Ada, made by the Lab.").

Decoded by the numpy model with a KV cache (`kv_decode`; no llama.cpp needed while
training); the reply ends at an end-of-turn token or after `max_tokens`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from desktop.core.posttrain.chat_tokenizer import ChatTokenizer
from desktop.core.posttrain.sft_data import SamplePrompt
from desktop.core.train.kv_decode import greedy
from desktop.core.train.model import Params
from desktop.core.train.sampling import readable_text
from desktop.core.train.trainer import Sampler, TrainingRun

ParamsOf = Callable[[TrainingRun], Params]  # the model to sample: the run's, or merged LoRA


def reply_text(tokenizer: ChatTokenizer, ids: Sequence[int]) -> str:
    return readable_text(b"".join(tokenizer.piece(i) for i in ids)).strip()


def reply_sampler(
    prompts: Sequence[SamplePrompt], tokenizer: ChatTokenizer, params_of: ParamsOf, max_tokens: int
) -> Sampler:
    """What `run_training` calls at sample steps: each question and the model's answer."""

    def sample(run: TrainingRun) -> str:
        params = params_of(run)
        lines = []
        for prompt in prompts:
            ids = greedy(params, run.shape, prompt.ids, tokenizer.end_ids, max_tokens)
            lines.append(f"Q: {prompt.question}\nA: {reply_text(tokenizer, ids) or '(nothing)'}")
        return "\n\n".join(lines)

    return sample
