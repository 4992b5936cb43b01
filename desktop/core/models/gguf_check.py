"""Preflight check run before a GGUF file is handed to llama.cpp.

llama.cpp validates most of the header itself, but a malformed file can still abort or
crash it, and its refusals are log lines, not sentences. Rejecting here what we can
recognise gives the person a clear reason and keeps obviously broken files away from the
model host. The rules mirror llama.cpp's gguf.cpp (block sizes, contiguous tensor offsets,
name length) plus what it cannot know up front: whether the data is all there, and whether
the model fits in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.chat.template_check import template_errors
from desktop.core.formatting import format_bytes
from desktop.core.models.gguf_header import GGUFError, GGUFHeader, read_gguf_header
from desktop.core.models.model_info import ModelInfo, model_info_from_header
from desktop.core.models.system_memory import available_memory_bytes

MAX_TENSOR_NAME = 63  # GGML_MAX_NAME is 64, including the terminating zero
MEMORY_WARN_FRACTION = 0.7
__all__ = ["CheckResult", "check_gguf", "header_errors", "template_errors", "tokenizer_errors"]
# The fuzz tests look for this: a file that reached it found a gap in the rules above.
UNCHECKABLE = "could not be checked: it is damaged in a way this app does not recognise"


@dataclass(frozen=True)
class CheckResult:
    ok: bool  # False: do not give this file to llama.cpp
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    info: ModelInfo | None = None
    exceeds_memory: bool = False  # a warning, not an error: the UI may offer "load anyway"


def check_gguf(
    path: str | Path,
    *,
    available_memory: int | None = None,
    check_memory: bool = True,
    time_limit: float = 2.0,
    tokenizer_only: bool = False,
) -> CheckResult:
    """Never raises for a bad file; `available_memory=None` asks the operating system.
    `tokenizer_only`: the file is used for its vocabulary (weights may be absent)."""
    name = Path(path).name
    try:
        header = read_gguf_header(path, time_limit=time_limit)
        return _check_header(path, header, available_memory, check_memory, tokenizer_only)
    except GGUFError as exc:
        return CheckResult(ok=False, errors=[with_remedy(str(exc))])
    except Exception as exc:  # a file we did not foresee: still one line, never a traceback
        return CheckResult(ok=False, errors=[f"{name} {UNCHECKABLE} ({type(exc).__name__})"])


def _check_header(
    path: str | Path,
    header: GGUFHeader,
    available_memory: int | None,
    check_memory: bool,
    tokenizer_only: bool,
) -> CheckResult:
    name = Path(path).name
    if tokenizer_only:
        errors = tokenizer_errors(name, header)
        check_memory = False
    else:
        errors = header_errors(name, header)
    info = model_info_from_header(path, header)
    if not errors:
        errors = chat_template_errors(name, header)
    if errors:
        return CheckResult(ok=False, errors=[with_remedy(e) for e in errors])
    warnings: list[str] = []
    exceeds = False
    if check_memory:
        available = available_memory if available_memory is not None else available_memory_bytes()
        exceeds = _memory_warnings(name, tensor_bytes(header), available, warnings)
    return CheckResult(ok=True, warnings=warnings, info=info, exceeds_memory=exceeds)


def with_remedy(problem: str) -> str:
    """A file's problem, with what to do about it."""
    if " is truncated" in problem or " is empty" in problem:
        return (f"{problem}. Download it again (the Models tab resumes an interrupted "
                "download), or copy it again if it came from elsewhere.")  # fmt: skip
    if "unsupported GGUF version" in problem:
        return (f"{problem}. The file is damaged or was made by a newer tool: download it "
                "again, or update Deep Dive Lab.")  # fmt: skip
    if " is not a GGUF file" in problem:
        return (f"{problem}. Pick a .gguf model file; an old GGML file must be converted "
                "with llama.cpp's tools first.")  # fmt: skip
    return problem


def tensor_bytes(header: GGUFHeader) -> int:
    return sum(t.nbytes or 0 for t in header.tensors)


def chat_template_errors(name: str, header: GGUFHeader) -> list[str]:
    """llama-cpp-python compiles the default template *and* every named one
    (`tokenizer.chat_template.tool_use`, …) while loading: any of them can stop the load."""
    default = "tokenizer.chat_template"
    for key, value in header.metadata.items():
        if not isinstance(value, str) or not (key == default or key.startswith(default + ".")):
            continue
        if errors := template_errors(name, value):
            if key == default:
                return errors
            return [f"{errors[0]} (the one named {key.removeprefix('tokenizer.')!r})"]
    return []


def tokenizer_errors(name: str, header: GGUFHeader) -> list[str]:
    """What a vocabulary-only load needs: a tokenizer, and tensors (if any) in the file."""
    if not isinstance(header.metadata.get("tokenizer.ggml.model"), str):
        return [f"{name} has no tokenizer (tokenizer.ggml.model is missing)"]
    if header.tensors:  # a whole model: its tensors must still be sound to read past
        return header_errors(name, header)
    if not isinstance(header.metadata.get("general.architecture"), str):
        return [f"{name} does not say which model architecture it is (general.architecture)"]
    return []


def header_errors(name: str, header: GGUFHeader) -> list[str]:
    """What llama.cpp would refuse (or crash on) in a header that parsed."""
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    if not header.tensors:
        return [f"{name} contains no weights (a vocabulary-only or metadata-only file?)"]
    if not isinstance(header.metadata.get("general.architecture"), str):
        return [f"{name} does not say which model architecture it is (general.architecture)"]
    expected_offset = 0
    for t in header.tensors:
        nbytes = t.nbytes
        if nbytes is None:
            return [f"{name}: tensor {t.name!r} uses an unknown data type ({t.ggml_type})"]
        if len(t.name.encode()) > MAX_TENSOR_NAME:
            return [f"{name}: tensor name {t.name[:80]!r} is longer than llama.cpp allows"]
        block = GGML_QUANT_SIZES[GGMLQuantizationType(t.ggml_type)][0]
        if t.dims and t.dims[0] % block:
            return [f"{name}: tensor {t.name!r} rows are not whole blocks of its type"]
        if t.offset != expected_offset:
            return [f"{name}: tensor {t.name!r} is not where the tensor list says it should be"]
        expected_offset += -(-nbytes // header.alignment) * header.alignment
        end = header.data_offset + t.offset + nbytes
        if end > header.file_size:
            return [_truncated_message(name, header, t.name, end)]
    return []


def _truncated_message(name: str, header: GGUFHeader, tensor: str, end: int) -> str:
    last = header.tensors[-1]
    expected = header.data_offset + last.offset + (last.nbytes or 0)
    return (
        f"{name} is truncated: tensor {tensor!r} ends past the end of the file "
        f"(the file has {format_bytes(header.file_size)} of the {format_bytes(expected)} "
        f"it needs; an incomplete download?)"
    )


def _memory_warnings(name: str, needed: int, available: int | None, out: list[str]) -> bool:
    """Append a warning when the weights alone crowd out free memory; True if they exceed it."""
    if available is None or available <= 0:
        return False
    if needed > available:
        out.append(
            f"{name} needs ~{format_bytes(needed)} of memory, "
            f"{format_bytes(available)} available: loading it may freeze the computer"
        )
        return True
    if needed > MEMORY_WARN_FRACTION * available:
        out.append(
            f"{name} needs ~{format_bytes(needed)}, most of the {format_bytes(available)} "
            "of free memory: other programs may slow down"
        )
    return False
