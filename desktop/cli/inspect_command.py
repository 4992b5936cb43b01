"""`deepdive-lab inspect MODEL.gguf [--json]`: what a model file is, without loading it.

Uses the same preflight check as the inference engine, so "inspect says it's fine" means
the app will hand it to llama.cpp. A broken file is one line on stderr and exit code 2,
never a traceback: this command is what people paste into bug reports.
"""

from __future__ import annotations

import sys
from typing import TextIO

from desktop.cli.output import json_text, shown
from desktop.core.formatting import format_bytes, format_count_exact
from desktop.core.models.gguf_check import check_gguf
from desktop.core.models.model_info import ModelInfo

EXIT_BROKEN_FILE = 2


def inspect_command(
    path: str, as_json: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    result = check_gguf(path, check_memory=False)
    if not result.ok or result.info is None:
        reason = result.errors[0] if result.errors else f"{path} could not be read"
        print(f"error: {reason}", file=err)
        return EXIT_BROKEN_FILE
    if as_json:
        print(json_text(result.info.to_dict()), file=out)
    else:
        print(shown(format_model_info(result.info)), file=out)
    return 0


def format_model_info(info: ModelInfo) -> str:
    def unknown(value: object) -> str:
        return "unknown" if value is None else str(value)

    rows = [
        ("Name", info.name),
        ("Architecture", unknown(info.architecture)),
        ("Parameters", format_count_exact(info.parameter_count)),
        ("Quantization", info.quantization),
        ("Context length", unknown(info.context_length)),
        ("Chat template", "yes" if info.has_chat_template else "no"),
        ("Tokenizer", unknown(info.tokenizer_model)),
        ("Vocabulary", unknown(info.vocab_size)),
        ("Layers", unknown(info.n_layers)),
        ("File size", f"{format_bytes(info.file_size)} ({info.file_size:,} bytes)"),
        ("Path", info.path),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label + ':':<{width + 1}} {value}" for label, value in rows)
