"""Authentication styles for POS APIs: secrets come from the environment only.

OAuth2 (client credentials, password grant, or a POS's own token form such as Treez's
``gettokens``) fetches a token from ``token_url``, caches it until shortly before it
expires, and fetches a new one on expiry or on a 401.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass

import httpx2 as httpx

from adapters.pos.spec import AuthSpec
from connector.errors import ConfigurationError, SourceUnreadable
from connector.redact import scrub

EARLY_REFRESH_SECONDS = 30.0


def secret(environ: Mapping[str, str], name: str | None, what: str) -> str:
    if name is None:
        return ""
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"{what}: the environment variable {name} is not set "
                                 "(secrets are never read from the config file)")
    return value


@dataclass(slots=True)
class _Token:
    value: str
    expires_at: float


class PosAuth(httpx.Auth):
    """An httpx ``Auth`` flow for every style the description can name."""

    def __init__(self, spec: AuthSpec, environ: Mapping[str, str], source: str,
                 token_url: str | None = None) -> None:
        """``token_url``: the spec's, resolved against the base URL and the vars."""
        self.spec = spec
        self.source = source
        self.token_url = token_url or spec.token_url
        self._env = environ
        self._token: _Token | None = None
        self.token_requests = 0
        what = f"source {source}: auth"
        # Read every secret now: a missing one is a configuration error before any work.
        self._values = {name: secret(environ, getattr(spec, name), what)
                        for name in ("token_env", "value_env", "username_env",
                                     "password_env", "client_id_env", "client_secret_env")
                        if getattr(spec, name) is not None}
        self._form = {k: secret(environ, v, f"{what}.form.{k}") for k, v in spec.form.items()}
        self._headers = {k: secret(environ, v, f"{what}.headers.{k}")
                         for k, v in spec.headers.items()}

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response,
                                                              None]:
        request.headers.update(self._headers)
        spec = self.spec
        if spec.kind == "bearer":
            request.headers["Authorization"] = f"Bearer {self._values['token_env']}"
        elif spec.kind == "header":
            assert spec.header is not None
            request.headers[spec.header] = spec.prefix + self._values["value_env"]
        elif spec.kind == "basic":
            request.headers["Authorization"] = httpx.BasicAuth(
                self._values["username_env"], self._values.get("password_env", "")
            )._auth_header
        elif spec.kind == "query":
            assert spec.param is not None
            request.url = request.url.copy_merge_params({spec.param: self._values["value_env"]})
        if spec.kind != "oauth2":
            yield request
            return
        self._authorize(request, refresh=False)
        response = yield request
        if response.status_code == 401:
            self._authorize(request, refresh=True)
            yield request

    def _authorize(self, request: httpx.Request, *, refresh: bool) -> None:
        token = self._token
        if refresh or token is None or time.monotonic() >= token.expires_at:
            token = self._token = self._fetch()
        scheme = f"{self.spec.scheme} " if self.spec.scheme else ""
        request.headers["Authorization"] = scheme + token.value

    def _fetch(self) -> _Token:
        spec = self.spec
        assert self.token_url is not None
        form: dict[str, str] = dict(self._form)
        if spec.grant_type != "form":
            form["grant_type"] = spec.grant_type
        for field, name in (("client_id", "client_id_env"),
                            ("client_secret", "client_secret_env")):
            if name in self._values:
                form[field] = self._values[name]
        if spec.grant_type == "password":
            form["username"] = self._values["username_env"]
            form["password"] = self._values["password_env"]
        self.token_requests += 1
        try:
            response = httpx.post(self.token_url, data=form, timeout=30.0)
        except httpx.TransportError as exc:
            raise SourceUnreadable(f"source {self.source}: token request failed: "
                                   f"{type(exc).__name__}") from exc
        if response.status_code != 200:
            raise SourceUnreadable(f"source {self.source}: the token endpoint answered "
                                   f"{response.status_code}: {scrub(response.text[:200])}")
        try:
            body = response.json()
            value = str(body[spec.token_field])
        except (ValueError, KeyError, TypeError) as exc:
            raise SourceUnreadable(f"source {self.source}: the token endpoint's answer has "
                                   f"no {spec.token_field!r}") from exc
        try:
            lifetime = float(body.get(spec.expires_field) or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        early = min(EARLY_REFRESH_SECONDS, lifetime / 4)
        return _Token(value, time.monotonic() + lifetime - early)
