"""The training loop: it learns, it is deterministic, it resumes exactly, it exports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from desktop.core.train.bpe import train_bpe
from desktop.core.train.checkpoint import load_checkpoint, save_checkpoint
from desktop.core.train.config import preset
from desktop.core.train.data import TokenData, bigram_loss
from desktop.core.train.sampling import RegurgitationMeter, window_hashes
from desktop.core.train.trainer import TrainingRun, export_gguf, train
from tests.llama_child import in_child, llama_logits, llama_tokenize

TEXT = (
    "A tokenizer cuts text into pieces. A model learns which piece comes next. "
    "The loss falls as the model learns, and samples turn from noise into words. "
) * 120


@pytest.fixture(scope="module")
def tokenizer():
    return train_bpe(TEXT, 300)


@pytest.fixture(scope="module")
def data(tokenizer) -> TokenData:
    return TokenData.split(np.asarray(tokenizer.encode(TEXT), dtype=np.int32), 0.1, 32)


def small(**changes):
    base = dict(vocab_size=300, dim=32, n_layers=2, n_heads=2, n_kv_heads=2, ffn_dim=64,
                context=32, batch_size=8, steps=60, warmup_steps=5, eval_every=20,
                sample_every=30, sample_tokens=16, learning_rate=5e-3)  # fmt: skip
    return preset("tiny", **(base | changes))


def losses(run: TrainingRun, data: TokenData, tokenizer=None) -> list[float]:
    return [m.loss for m in train(run, data, tokenizer)]


def test_it_learns_a_repetitive_corpus_past_the_bigram_bar(tokenizer, data) -> None:
    run = TrainingRun.start(small(steps=150), tokenizer.n_vocab)
    metrics = list(train(run, data, tokenizer, meter=RegurgitationMeter(data.train)))
    assert metrics[-1].val_loss is not None
    assert metrics[-1].val_loss < bigram_loss(data, tokenizer.n_vocab)
    assert metrics[-1].loss < metrics[0].loss / 3
    assert any(m.sample for m in metrics) and metrics[-1].regurgitation is not None
    assert metrics[-1].regurgitation > 0.5  # the data is one sentence repeated: it copies


def test_same_seed_same_losses(tokenizer, data) -> None:
    a = losses(TrainingRun.start(small(), tokenizer.n_vocab), data)
    b = losses(TrainingRun.start(small(), tokenizer.n_vocab), data)
    assert a == b


def test_a_resumed_run_continues_the_same_curve(tokenizer, data, tmp_path: Path) -> None:
    whole = losses(TrainingRun.start(small(), tokenizer.n_vocab), data)
    first = TrainingRun.start(small(), tokenizer.n_vocab)
    for m in train(first, data):
        if m.step == 25:
            break
    save_checkpoint(tmp_path / "run.npz", first.checkpoint())
    resumed = TrainingRun.resume(load_checkpoint(tmp_path / "run.npz"))
    assert resumed.step == 25
    rest = losses(resumed, data)
    np.testing.assert_allclose(rest, whole[25:], rtol=1e-5)
    assert [p["step"] for p in resumed.history][:25] == list(range(1, 26))


def test_a_killed_save_leaves_the_previous_checkpoint(tokenizer, data, tmp_path: Path) -> None:
    run = TrainingRun.start(small(steps=10), tokenizer.n_vocab)
    losses(run, data)
    path = tmp_path / "run.npz"
    save_checkpoint(path, run.checkpoint())
    before = path.read_bytes()
    code = (
        "import os, sys, numpy as np\n"
        "from pathlib import Path\n"
        "import desktop.core.train.checkpoint as c\n"
        "real = np.savez\n"
        "def dying(f, **arrays):\n"
        "    f.write(b'half a checkpoint'); f.flush(); os._exit(9)\n"
        "c.np.savez = dying\n"
        f"cp = c.load_checkpoint(Path({str(path)!r}))\n"
        f"c.save_checkpoint(Path({str(path)!r}), cp)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env={**os.environ}, timeout=60,
                            cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    assert result.returncode == 9
    assert path.read_bytes() == before
    assert load_checkpoint(path).step == 10


def test_export_loads_in_llama_cpp_with_the_same_tokens(tokenizer, data, tmp_path) -> None:
    from desktop.core.train.model import forward

    run = TrainingRun.start(small(steps=5), tokenizer.n_vocab)
    losses(run, data)
    path = export_gguf(run, tokenizer, tmp_path / "tiny.gguf")
    text = "The model learns which piece comes next."
    ids = tokenizer.encode(text)
    [theirs_ids] = in_child(llama_tokenize, str(path), [text])
    assert theirs_ids == ids
    theirs = in_child(llama_logits, str(path), ids)
    ours = forward(run.params, run.shape, np.asarray([ids]))[0][0]
    assert np.abs(ours - theirs).max() <= 1e-4  # measured ~1e-5


def test_window_hashes_find_verbatim_runs() -> None:
    data = np.arange(100, dtype=np.int32)
    meter = RegurgitationMeter(data)
    assert meter.share_copied(list(range(10, 40))) == 1.0
    assert meter.share_copied([7] * 30) == 0.0
    assert meter.share_copied([1, 2, 3]) is None
    assert len(window_hashes(data)) == 100 - 12 + 1


def test_a_short_custom_run_gets_a_schedule_to_match() -> None:
    from desktop.core.train.config import fit_schedule

    short = fit_schedule(preset("small", steps=20))
    assert (short.warmup_steps, short.eval_every, short.sample_every) == (2, 2, 5)
    assert fit_schedule(preset("small")) == preset("small")  # presets are already in tune


def test_numpys_blas_thread_count_can_be_set() -> None:
    """The Train tab leaves one core to the window this way; if numpy's OpenBLAS stops
    exposing the setter, the GUI would stall again while training. Checked with OpenBLAS's
    own getter: the count really changes, not just a True."""
    import ctypes
    from pathlib import Path

    from desktop.core.train.blas import set_blas_threads

    (lib,) = sorted((Path(np.__file__).resolve().parent.parent / "numpy.libs").glob("*openblas*"))
    handle = ctypes.CDLL(str(lib))
    names = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads")
    get_threads = next(getattr(handle, n) for n in names if hasattr(handle, n))
    before = get_threads()
    try:
        assert set_blas_threads(1) and get_threads() == 1
        assert set_blas_threads(2) and get_threads() == 2
    finally:
        set_blas_threads(before)
    assert get_threads() == before


def test_bigram_bar_matches_the_dense_count_table() -> None:
    """The sparse counting gives the textbook add-one bigram loss (vocab x vocab table)."""
    rng = np.random.default_rng(3)
    vocab = 37
    ids = (rng.zipf(1.6, size=5000) % vocab).astype(np.int32)
    data = TokenData(train=ids[:4000], validation=ids[4000:])
    table = np.ones((vocab, vocab))
    np.add.at(table, (ids[:3999], ids[1:4000]), 1.0)
    log_probs = np.log(table / table.sum(axis=1, keepdims=True))
    expected = -log_probs[ids[4000:-1], ids[4001:]].mean()
    assert bigram_loss(data, vocab) == pytest.approx(expected, rel=1e-12)


def test_a_tiny_preset_model_holds_the_apps_prompts_and_llama_cpp_runs_its_whole_context(
    tmp_path: Path,
) -> None:
    """The contexts the rest of the app needs: the base-model prompt (identity line, three
    example exchanges) plus three turns fits the tiny preset with room for a reply, in the
    preset's own vocabulary on the default corpus; and llama.cpp computes the exported
    model's logits at positions far past its 256-token minimum as the numpy model does."""
    from desktop.core.chat.base_prompt import build_base_prompt
    from desktop.core.chat.generation import ChatMessage
    from desktop.core.train.corpus import build_stdlib_corpus
    from desktop.core.train.model import forward
    from tests.core.test_train_model import realistic_params

    config = preset("tiny")
    tokenizer = train_bpe(build_stdlib_corpus(), config.vocab_size)
    turns = ["What does the json module do?", "It reads and writes JSON.",
             "How do I sort a list?", "Use sorted() or list.sort().",
             "What is a generator?"]  # fmt: skip
    messages = [ChatMessage(role="user" if i % 2 == 0 else "assistant", content=text)
                for i, text in enumerate(turns)]  # fmt: skip
    prompt_tokens = len(tokenizer.encode(build_base_prompt(messages)))
    assert prompt_tokens + 64 <= config.context  # a 64-token reply still fits
    run = TrainingRun.start(config, tokenizer.n_vocab)
    run.params = realistic_params(run.shape, seed=3)  # logits of a trained model's size
    path = export_gguf(run, tokenizer, tmp_path / "tiny.gguf")
    ids = np.random.default_rng(0).integers(0, tokenizer.n_vocab, config.context - 2).tolist()
    theirs = in_child(llama_logits, str(path), ids, config.context)
    ours = forward(run.params, run.shape, np.asarray([ids]))[0][0]
    assert ours[600:].std() > 1.0
    # float32 sums over 1000 positions differ by ~1e-4; wrong positions would differ by ~1
    assert np.abs(ours[600:] - theirs[600:]).max() <= 1e-3
