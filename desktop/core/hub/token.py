"""The Hub access token, kept in huggingface_hub's own token store (shared with the `hf`
command line and every other Hugging Face tool on this computer)."""

from __future__ import annotations

from desktop.core.hub.endpoint import hub_endpoint
from desktop.core.hub.hub_errors import HubError, explain


def stored_token() -> str | None:
    from huggingface_hub import get_token

    return get_token()


def save_token(token: str) -> str:
    """Check the token with the Hub (whoami), store it; returns the account name."""
    from huggingface_hub import HfApi

    token = token.strip()
    if not token:
        raise HubError("The token is empty.", "unauthorized")
    try:
        who = HfApi(endpoint=hub_endpoint()).whoami(token=token)
    except Exception as exc:
        error = explain(exc)
        if error.kind in ("unauthorized", "not_found"):
            raise HubError(
                "The Hub did not accept this token: copy it again from huggingface.co → "
                "Settings → Access Tokens (or make a new one there).",
                "unauthorized",
            ) from exc
        raise error from exc
    _store(token, who)
    return str(who["name"])


def _store(token: str, who: dict[str, object]) -> None:
    """What `huggingface_hub.login` does after its own whoami. Its whoami is bound to the
    endpoint of import time, so we validate against `hub_endpoint()` ourselves and call
    its storing steps directly; if a release renames them, `login` does both."""
    access = (who.get("auth") or {}).get("accessToken") or {}  # type: ignore[attr-defined]
    name = access.get("displayName") or f"deepdive-{who.get('name', 'user')}"
    try:
        from huggingface_hub._login import _set_active_token
        from huggingface_hub.utils._auth import _save_token
    except ImportError:
        from huggingface_hub import login

        login(token=token, add_to_git_credential=False)
        return
    _save_token(token=token, token_name=name)
    _set_active_token(token_name=name, add_to_git_credential=False)
