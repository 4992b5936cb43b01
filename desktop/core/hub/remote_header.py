"""Read a GGUF header straight from the Hub, a few Range requests instead of gigabytes.

The fit estimate needs the model's shape (layers, KV heads) for its KV cache; all the
quantizations of a repository share it, so one header per repository is enough.
"""

from __future__ import annotations

import io

from desktop.core.hub.endpoint import hub_endpoint
from desktop.core.hub.hub_errors import explain
from desktop.core.models.gguf_header import parse_gguf_header
from desktop.core.models.model_info import ModelInfo, model_info_from_header

BLOCK = 1 << 20
MAX_HEADER_BYTES = 64 << 20  # vocabularies are large, but not this large


class RangeReader(io.RawIOBase):
    """A read-only, seekable view of a remote file, fetched in cached 1 MiB blocks."""

    def __init__(self, url: str, size: int, token: str | None = None) -> None:
        from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

        self.url, self.size = url, size
        self.headers = build_hf_headers(token=token)
        self.pos = 0
        self.blocks: dict[int, bytes] = {}

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def read(self, n: int = -1) -> bytes:
        end = self.size if n < 0 else min(self.size, self.pos + n)
        out = bytearray()
        while self.pos < end:
            index, start = divmod(self.pos, BLOCK)
            block = self._block(index)
            piece = block[start : start + end - self.pos]
            if not piece:
                break
            out += piece
            self.pos += len(piece)
        return bytes(out)

    def _block(self, index: int) -> bytes:
        if index not in self.blocks:
            if len(self.blocks) * BLOCK >= MAX_HEADER_BYTES:
                raise OSError("the header is larger than any real model's")
            from huggingface_hub import get_session, hf_raise_for_status

            first = index * BLOCK
            length = min(self.size, first + BLOCK) - first
            headers = {**self.headers, "Range": f"bytes={first}-{first + length - 1}"}
            block = bytearray()
            with get_session().stream(
                "GET", self.url, headers=headers, follow_redirects=True, timeout=30
            ) as response:
                hf_raise_for_status(response)
                if response.status_code != 206:  # the whole file would follow: gigabytes
                    raise OSError("the server does not answer Range requests")
                for chunk in response.iter_raw():
                    block += chunk
                    if len(block) >= length:
                        break
            self.blocks[index] = bytes(block[:length])
        return self.blocks[index]


def read_remote_model_info(
    repo_id: str, filename: str, size: int, *, revision: str = "main", token: str | None = None
) -> ModelInfo:
    """The header of a GGUF on the Hub, as a ModelInfo (raises HubError or GGUFError)."""
    from huggingface_hub import hf_hub_url

    url = hf_hub_url(repo_id, filename, revision=revision, endpoint=hub_endpoint())
    reader = RangeReader(url, size, token)
    try:
        header = parse_gguf_header(reader, filename, size, time_limit=60.0)  # type: ignore[arg-type]
    except OSError as exc:
        raise explain(exc, filename) from exc
    except Exception as exc:
        from desktop.core.models.gguf_header import GGUFError

        if isinstance(exc, GGUFError):
            raise
        raise explain(exc, filename) from exc
    return model_info_from_header(f"{repo_id}/{filename}", header)
