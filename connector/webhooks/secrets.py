"""Webhook signing secrets, by workspace: never in the config file, never in the state DB,
never logged.

Read from ``STICKY_SYNC_WEBHOOK_SECRET_<WORKSPACE>`` (upper case, other characters as
``_``) or else from ``[webhooks] secrets_file``, a JSON object ``{workspace: secret}``
that ``webhooks subscribe`` writes with mode 600. The state DB keeps only a fingerprint,
to tell which secret a subscription was made with.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from connector.config import WebhookSettings
from connector.errors import ConfigurationError
from connector.files import write_private


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def _read_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigurationError(f"webhooks.secrets_file: cannot read {path}: "
                                 f"{exc.strerror}") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"webhooks.secrets_file {path}: not a JSON object "
                                 "{workspace: secret}") from exc
    if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ConfigurationError(f"webhooks.secrets_file {path}: not a JSON object "
                                 "{workspace: secret}")
    return dict(data)


class SecretBook:
    """The signing secrets, read once (a subscribe in another process writes the file:
    ``reload()`` picks it up)."""

    def __init__(self, settings: WebhookSettings,
                 environ: Mapping[str, str] | None = None) -> None:
        self._settings = settings
        self._environ = os.environ if environ is None else environ
        self._file: dict[str, str] = {}
        self.reload()

    def reload(self) -> None:
        self._file = _read_file(self._settings.secrets_file)

    def secret(self, workspace: str) -> str | None:
        value = self._environ.get(WebhookSettings.secret_env(workspace), "").strip()
        return value or self._file.get(workspace) or None

    def save(self, workspace: str, secret: str) -> None:
        """Add (or replace) one workspace's secret in the secrets file."""
        data = _read_file(self._settings.secrets_file)
        data[workspace] = secret
        write_private(self._settings.secrets_file,
                      json.dumps(data, indent=2, sort_keys=True) + "\n")
        self._file = data
