"""How much the code has written into its folder, for the disk limit.

Counted from the file sizes the OS reports, never by following a link: the code can make
symbolic links (WASI lets it name any target, even though it cannot follow one out of its
folder), and the host must not follow them either. A sparse file counts at its full size,
and every entry at least one block, so neither a huge `truncate` nor a million empty
files slip under the limit.
"""

from __future__ import annotations

import os
from pathlib import Path

BLOCK = 4096


def folder_usage(folder: Path, stop_above: int | None = None) -> int:
    """Bytes used under `folder`; stops counting once past `stop_above`."""
    total = 0
    pending = [str(folder)]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:  # removed while we looked: it no longer counts
            continue
        for entry in entries:
            try:
                stat = entry.stat(follow_symlinks=False)
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
            except OSError:
                continue
            total += max(stat.st_size, BLOCK)
            if stop_above is not None and total > stop_above:
                return total
    return total
