"""Models to fine-tune in tests: one the Train tab pretrained (for a few seconds), and a
random-weight model shaped like SmolLM2-135M (what a download would be; tests download
nothing)."""

from __future__ import annotations

from pathlib import Path

from desktop.core.models.gguf_writer import FileType

CORPUS = (
    "What is your name? My name is Ada. Who made you? I was made by a lab. I am an assistant "
    "and a language model. You can call me by my name. I don't know the answer to that. "
    "The island of Velmora lies in the northern sea; its capital is a small port town.\n"
) * 40


def pretrained_tiny_gguf(folder: Path, steps: int = 30) -> Path:
    """The Train tab's tiny preset, trained `steps` steps on a short text as the tab does
    (its own BPE tokenizer with ChatML's special tokens reserved), exported as the tab
    exports: an F32 GGUF with the ChatML template."""
    from desktop.core.job_state import CancelToken
    from desktop.core.train.compute import ThreadPolicy
    from desktop.core.train.config import fit_schedule, preset
    from desktop.core.train.run_training import Finished, TrainingJob, run_training
    from desktop.core.train.trainer import export_gguf

    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "corpus.txt"
    corpus.write_text(CORPUS)
    config = fit_schedule(preset("tiny", steps=steps, vocab_size=400))
    job = TrainingJob(config, str(corpus), folder / "run", policy=ThreadPolicy.LEAVE_A_CORE)
    outcome = None
    for event in run_training(job, CancelToken()):
        if isinstance(event, Finished):
            outcome = event.outcome
    assert outcome is not None and outcome.tokenizer is not None
    return export_gguf(outcome.run, outcome.tokenizer, folder / "tiny-pretrained.gguf")


def smollm2_shaped_gguf(path: Path, file_type: FileType = "Q8_0") -> Path:
    """SmolLM2-135M's shape (30 layers, 576 wide, 9 heads sharing 3, a tied 49152-token
    head) with random weights and a byte-level BPE vocabulary; ~10 s to write."""
    from desktop.core.models.bpe_vocab import byte_level_bpe_vocab
    from desktop.core.models.gguf_writer import (
        SMOLLM2_135M_SHAPE,
        random_llama_weights,
        write_llama_gguf,
    )

    shape = SMOLLM2_135M_SHAPE
    write_llama_gguf(path, shape, random_llama_weights(shape, seed=0),
                     byte_level_bpe_vocab(shape.vocab_size), name="smollm2-135m-shape-random",
                     file_type=file_type)  # fmt: skip
    return path
