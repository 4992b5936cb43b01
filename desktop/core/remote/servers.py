"""The remote servers a person added, and which of their models the model pickers offer.

Kept in the app's settings as JSON (`servers_to_json` / `servers_from_json`): the name, the
base URL, the picked models and whether the person has read what is sent where. Never the
API key, which lives in the keyring (keys.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from desktop.core.remote.endpoint import (
    KNOWN_SERVERS,
    EndpointError,
    RemoteModel,
    is_remote,
    normalise_base_url,
    parse_remote,
)


@dataclass(frozen=True)
class SavedServer:
    name: str
    base_url: str  # normalised
    models: tuple[str, ...] = ()  # picked for the model lists, in the order picked
    acknowledged: bool = False  # the what-is-sent sentence was shown and accepted

    def remote_models(self) -> list[RemoteModel]:
        return [RemoteModel(self.base_url, m) for m in self.models]

    def with_model(self, model: str) -> SavedServer:
        return self if model in self.models else replace(self, models=(*self.models, model))

    def without_model(self, model: str) -> SavedServer:
        return replace(self, models=tuple(m for m in self.models if m != model))


@dataclass
class ServerList:
    servers: list[SavedServer] = field(default_factory=list)

    def find(self, base_url: str) -> SavedServer | None:
        try:
            url = normalise_base_url(base_url)
        except EndpointError:
            return None
        return next((s for s in self.servers if s.base_url == url), None)

    def put(self, server: SavedServer) -> None:
        """Add the server, or replace the one with its base URL (in its place)."""
        for index, old in enumerate(self.servers):
            if old.base_url == server.base_url:
                self.servers[index] = server
                return
        self.servers.append(server)

    def remove(self, base_url: str) -> None:
        self.servers = [s for s in self.servers if s.base_url != base_url]

    def remote_models(self) -> list[RemoteModel]:
        """Every picked model of every server the person has acknowledged, for the pickers."""
        return [m for s in self.servers if s.acknowledged for m in s.remote_models()]


def default_name(base_url: str) -> str:
    """The preset's name for a known address, else the host ("api.example.com")."""
    url = normalise_base_url(base_url)
    for name, preset in KNOWN_SERVERS:
        if normalise_base_url(preset) == url:
            return name
    return urlsplit(url).netloc


def display_name(path: str) -> str:
    """How a model is named in lists and labels: "model at host" for a remote model, the
    file name for a GGUF."""
    if is_remote(path):
        try:
            return parse_remote(path).label
        except EndpointError:
            return path
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def servers_to_json(servers: ServerList) -> str:
    return json.dumps([_server_record(s) for s in servers.servers])


def _server_record(server: SavedServer) -> dict[str, object]:
    return {
        "name": server.name,
        "base_url": server.base_url,
        "models": list(server.models),
        "acknowledged": server.acknowledged,
    }


def servers_from_json(text: str) -> ServerList:
    """What the settings hold; an entry that cannot be read is left out, never a crash
    (the settings file is a text file anyone can edit)."""
    try:
        items = json.loads(text or "[]")
    except ValueError:
        return ServerList()
    result = ServerList()
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        try:
            url = normalise_base_url(str(item.get("base_url", "")))
        except EndpointError:
            continue
        models = item.get("models")
        models = models if isinstance(models, list) else []
        names = tuple(m for m in models if isinstance(m, str) and m.strip())
        name = str(item.get("name") or default_name(url))
        result.put(SavedServer(name, url, names, item.get("acknowledged") is True))
    return result
