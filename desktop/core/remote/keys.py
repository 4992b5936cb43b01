"""API keys, one per server (base URL), kept in the operating system's keyring.

The key never goes into the app's settings or database. Where no keyring exists (a
headless Linux without a Secret Service), the key is kept for this session only, and the
caller is told so in a sentence.
"""

from __future__ import annotations

import contextlib

from desktop.core.remote.endpoint import normalise_base_url

SERVICE = "Deep Dive Lab API keys"
_session_only: dict[str, str] = {}


def _account(base_url: str) -> str:
    return normalise_base_url(base_url)


def save_key(base_url: str, key: str) -> str:
    """Store `key` for the server; returns "" or a sentence saying it is kept only until
    the app closes (no keyring here)."""
    import keyring
    from keyring.errors import KeyringError

    account = _account(base_url)
    try:
        keyring.set_password(SERVICE, account, key)
    except KeyringError as exc:
        _session_only[account] = key
        return (
            f"There is no system keyring to keep the API key in ({exc}); it is kept "
            "until the app closes."
        )
    _session_only.pop(account, None)
    return ""


def load_key(base_url: str) -> str:
    """The key saved for the server, or "" (servers on this computer usually need none)."""
    import keyring
    from keyring.errors import KeyringError

    account = _account(base_url)
    if account in _session_only:
        return _session_only[account]
    try:
        return keyring.get_password(SERVICE, account) or ""
    except KeyringError:
        return ""


def forget_key(base_url: str) -> None:
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    account = _account(base_url)
    _session_only.pop(account, None)
    # nothing saved, or no keyring: either way no key is left
    with contextlib.suppress(PasswordDeleteError, KeyringError):
        keyring.delete_password(SERVICE, account)
