"""A remote model: which server (its base URL) and which of its models, written as one
"path" so it travels through the engine exactly like a GGUF path does.

What leaves the machine is said in one sentence (`what_is_sent`), which the app shows
before the first request to a server.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

REMOTE_PREFIX = "remote:"

# A remote server applies its own chat template; the app never renders one for it. The
# sentinel is a template nonetheless (the model *is* a chat model: the Chat tab defaults to
# chat mode), and one that refuses with a sentence if anything ever tries to render it.
REMOTE_TEMPLATE = (
    "{{ raise_exception('the server applies its own chat template; the app sends it the "
    "messages as they are') }}"
)

# Servers people run, with the base URL each serves the OpenAI API under by default.
KNOWN_SERVERS: tuple[tuple[str, str], ...] = (
    ("together.ai", "https://api.together.xyz/v1"),
    ("OpenRouter", "https://openrouter.ai/api/v1"),
    ("Ollama (this computer)", "http://127.0.0.1:11434/v1"),
    ("LM Studio (this computer)", "http://127.0.0.1:1234/v1"),
    ("llama.cpp server (this computer)", "http://127.0.0.1:8080/v1"),
    ("vLLM (this computer)", "http://127.0.0.1:8000/v1"),
)


class EndpointError(ValueError):
    """A base URL that cannot be used; the message is a sentence."""


def normalise_base_url(url: str) -> str:
    """The base URL as the client uses it: no trailing slash, no pasted endpoint path, and
    `/v1` added to a bare server address (every server above serves the API there)."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url if _looks_local(url) else "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(
            f"“{url}” is not a web address (it should look like https://api.together.xyz/v1)."
        )
    path = parts.path.rstrip("/")
    for suffix in ("/chat/completions", "/completions", "/models"):
        path = path.removesuffix(suffix)
    if not path:
        path = "/v1"
    return f"{parts.scheme}://{parts.netloc}{path}"


def _looks_local(url: str) -> bool:
    host = url.split("/", 1)[0].rsplit(":", 1)[0]
    return host in ("localhost", "127.0.0.1", "[::1]") or host.startswith("192.168.")


@dataclass(frozen=True)
class RemoteModel:
    base_url: str
    model: str

    @property
    def path(self) -> str:
        """What the engine loads: "remote:<base URL>#<model>" (a fragment is never sent)."""
        return f"{REMOTE_PREFIX}{self.base_url}#{self.model}"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def label(self) -> str:
        return f"{self.model} at {urlsplit(self.base_url).netloc}"


def is_remote(path: str) -> bool:
    return path.startswith(REMOTE_PREFIX)


def remote_model(base_url: str, model: str) -> RemoteModel:
    if not model.strip():
        raise EndpointError("Pick a model of this server first.")
    return RemoteModel(normalise_base_url(base_url), model.strip())


def parse_remote(path: str) -> RemoteModel:
    if not is_remote(path) or "#" not in path:
        raise EndpointError(f"“{path}” is not a remote model (remote:<base URL>#<model>).")
    base_url, _, model = path.removeprefix(REMOTE_PREFIX).partition("#")
    return remote_model(base_url, model)


def where(base_url: str) -> str:
    """'this computer', 'your local network' or 'the internet': where requests go."""
    host = urlsplit(normalise_base_url(base_url)).hostname or ""
    if host == "localhost":
        return "this computer"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "the local network" if host.endswith((".local", ".lan")) else "the internet"
    if address.is_loopback:
        return "this computer"
    return "the local network" if address.is_private or address.is_link_local else "the internet"


def what_is_sent(base_url: str) -> str:
    """One plain sentence, shown before the first request to a server."""
    url = normalise_base_url(base_url)
    origin = RemoteModel(url, "").origin
    place = where(url)
    if place == "this computer":
        return (
            f"Your messages and settings are sent to a server on this computer "
            f"({origin}) as you send them; nothing leaves this computer."
        )
    clear = " unencrypted (http, not https)," if url.startswith("http://") else ""
    network = " on your local network" if place == "the local network" else ""
    return (
        f"Your messages are sent to {origin}{network}{clear} as you send them: the "
        "conversation so far, the system prompt and the sampling settings, with your API "
        "key. Nothing else leaves this computer; what the server keeps is up to its owner."
    )


def approximate_tokens(text: str) -> int:
    """A remote server does not share its tokenizer: about 4 characters a token (English
    under BPE). Used only to fit a conversation to the context; the server's own count
    (its `usage`) is what the reply's figures show."""
    return max(1, (len(text) + 3) // 4)
