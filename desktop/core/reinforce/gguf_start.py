"""A start model from a GGUF file: RL can go on from a model exported earlier (by this
tab, or a Post-train run of one of its models) instead of making a new one.

The weights come through the Post-train tab's loader (`read_llama_facts`,
`load_llama_weights`: any llama GGUF, dequantized). The tasks' prompts and the verifier
read the byte vocabulary of `chat_format.task_tokenizer`, so the model must have been
trained on it: its vocabulary is checked token by token, and another (a downloaded
model's) is refused with a sentence that says so. The start model is then saved like a
made one — weights, tokenizer, its held-out figures — so the tab lists it and "more
SFT" can continue from it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

from desktop.core.posttrain.gguf_weights import (
    UnsupportedModel,
    load_llama_weights,
    read_llama_facts,
)
from desktop.core.reinforce.chat_format import task_tokenizer
from desktop.core.reinforce.start_model import (
    START_FILE,
    StartModel,
    StartRecipe,
    load_start_model,
)
from desktop.core.storage.atomic_files import write_text_atomically
from desktop.core.train.checkpoint import save_checkpoint
from desktop.core.train.run_training import CHECKPOINT, TOKENIZER
from desktop.core.train.trainer import TrainingRun

TOKENS_KEY = "tokenizer.ggml.tokens"


def start_from_gguf(path: Path, task: str, difficulty: int, folder: Path) -> StartModel:
    """`path`'s weights as a start model for `task`, saved in `folder`, with its
    held-out pass@1 measured. `UnsupportedModel` (a ValueError) names what does not fit."""
    facts = read_llama_facts(path)
    tokenizer = task_tokenizer()
    if vocabulary(path) != tokenizer.to_bpe_vocab().tokens:
        raise UnsupportedModel(
            f"{path.name} does not use the tasks' byte vocabulary: RL here starts from a "
            "model this tab made (or exported), not a downloaded one"
        )
    params = load_llama_weights(facts)
    shape = facts.shape
    recipe = StartRecipe(task=task, difficulty=difficulty, dim=shape.dim,
                         n_layers=shape.n_layers, n_heads=shape.n_heads,
                         context=shape.context_length, pretrain_steps=0, sft_steps=0,
                         target=0.0)  # fmt: skip
    config = replace(
        recipe.config(tokenizer.n_vocab, steps=1, batch=recipe.sft_batch, decay=False),
        n_kv_heads=shape.n_kv_heads, ffn_dim=shape.ffn_dim, rope_theta=shape.rope_theta,
        norm_eps=shape.norm_eps, tie_embeddings=shape.tie_embeddings,
    )  # fmt: skip
    run = TrainingRun.start_from(config, params)
    evaluation = recipe.evaluation(tokenizer)
    figures = evaluation(run) if evaluation is not None else {}
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(folder / TOKENIZER)
    save_checkpoint(folder / CHECKPOINT, run.checkpoint())
    info = {"recipe": asdict(recipe), "figures": figures, "step": 0, "elapsed_s": 0.0,
            "source": str(path)}  # fmt: skip
    write_text_atomically(folder / START_FILE, json.dumps(info, indent=1) + "\n")
    return load_start_model(folder)


def vocabulary(path: Path) -> tuple[str, ...]:
    """The model's tokens as GGUF spells them (the header parser keeps only the length of
    long arrays; gguf's reader maps the file and reads them)."""
    from gguf import GGUFReader

    field = GGUFReader(path).fields.get(TOKENS_KEY)
    return tuple(str(t) for t in field.contents()) if field is not None else ()
