"""llama.cpp in a child process, for tests.

llama.cpp can abort or segfault (a damaged file, a CPU-specific bug such as AMX's on
quantized models): inside the pytest process that would end the whole run. In a child it
is one failed test that says how the child died. The child loads llama.cpp the way the
app's model host does (`llama_runtime`), so a test sees the CPU backend users get.

    result = in_child(some_module_level_function, arg1, arg2)
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")


def in_child(function: Callable[..., T], *args: Any, timeout: float = 120.0) -> T:
    """`function(*args)` in a fresh process; its return value comes back pickled.

    `function` must be importable by name (defined at a module's top level)."""
    from desktop.engine.model_host import describe_exit

    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_run, args=(sender, function, args), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            child.kill()
            raise AssertionError(f"llama.cpp did not finish within {timeout:.0f} s")
        ok, value = receiver.recv()
    except EOFError:
        child.join(5)
        raise AssertionError(f"the llama.cpp child {describe_exit(child.exitcode)}") from None
    finally:
        receiver.close()
    child.join(5)
    if not ok:
        raise AssertionError(f"in the llama.cpp child:\n{value}")
    return value  # type: ignore[no-any-return]


def _run(sender: Connection, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        from desktop.engine.llama_runtime import llama_runtime

        llama_runtime()
        sender.send((True, function(*args)))
    except BaseException:  # the parent reports it as the test's failure
        sender.send((False, traceback.format_exc()))


# ---- what tests ask llama.cpp, run through in_child ------------------------------------


def llama_tokenize(path: str, texts: list[str], special: bool = False) -> list[list[int]]:
    """llama.cpp's own ids for each text (vocabulary only, no BOS)."""
    from llama_cpp import Llama

    llm = Llama(model_path=path, vocab_only=True, verbose=False)
    try:
        return [list(llm.tokenize(t.encode(), add_bos=False, special=special)) for t in texts]
    finally:
        llm.close()


def llama_logits(path: str, ids: list[int], n_ctx: int = 256) -> Any:
    """llama.cpp's logits for every position of `ids` (numpy, positions × vocabulary).

    llama.cpp's KV cache is F16 by default: rounding k and v to 11 bits moves the logits by
    ~1e-2. An F32 cache makes it the same float32 maths as the numpy model's."""
    import llama_cpp
    import numpy as np

    llm = llama_cpp.Llama(
        model_path=path,
        logits_all=True,
        n_ctx=n_ctx,
        n_threads=1,
        verbose=False,
        type_k=llama_cpp.GGML_TYPE_F32,
        type_v=llama_cpp.GGML_TYPE_F32,
    )
    try:
        llm.eval(ids)
        return np.array(llm.scores[: len(ids)])
    finally:
        llm.close()


def system_info() -> str:
    """What the loaded CPU backend reports (instruction sets, AMX among them)."""
    import llama_cpp

    return bytes(llama_cpp.llama_print_system_info()).decode()


def llama_vocab_facts(path: str, texts: list[str], special_texts: list[str]) -> dict[str, Any]:
    """Ids of `texts` as typed, ids of `special_texts` with control tokens parsed, and BOS/EOS."""
    from llama_cpp import Llama

    llm = Llama(model_path=path, vocab_only=True, verbose=False)
    try:
        return {
            "plain": [list(llm.tokenize(t.encode(), add_bos=False, special=False)) for t in texts],
            "special": [
                list(llm.tokenize(t.encode(), add_bos=False, special=True)) for t in special_texts
            ],
            "bos": llm.token_bos(),
            "eos": llm.token_eos(),
        }
    finally:
        llm.close()


def llama_quantize(source: str, target: str, ftype_name: str) -> None:
    """llama.cpp's own quantizer (`LLAMA_FTYPE_MOSTLY_Q4_K_M`, …): the mixes downloaded
    models come in, which the gguf package cannot write."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{ftype_name}")
    params.nthread = 1
    if llama_cpp.llama_model_quantize(source.encode(), target.encode(), params) != 0:
        raise RuntimeError(f"llama.cpp could not quantize {source} to {ftype_name}")
