"""Authentication styles for POS APIs, and where their secrets come from.

Secrets are read from the environment only. A description names each secret by *role*
(``[secrets] location_key = { env = "DUTCHIE_LOCATION_KEY" }``) and a source may say
which variable holds it for that source (``secrets = { location_key = "DUTCHIE_KEY_2" }``):
one config then serves many stores whose POS issues one key per store (Dutchie,
domain.md §0.4, §1.1). A reference that is not a role is the variable's own name.

OAuth2 (client credentials, password grant, or a POS's own token form such as Treez's
``gettokens``) fetches a token from ``token_url`` through the same retry policy as any
request (5xx, 429 and network errors are retried with backoff; only a refusal of the
credentials aborts), caches it until shortly before it expires, and fetches a new one on
expiry or on a 401.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass

from adapters.http import SOURCE_POLICY, SourceHttp, json_body
from adapters.pos.spec import SECRET_SLOTS, AuthSpec, PosSpec
from connector.errors import AuthenticationFailed, ConfigurationError, SourceUnreadable
from connector.http.lib import httpx
from connector.http.retry import RetryPolicy
from connector.redact import scrub

EARLY_REFRESH_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class SecretSource:
    """Where one secret reference of a description is read from, for one source."""

    ref: str
    role: str | None
    env: str
    optional: bool = False

    def describe(self) -> str:
        where = f"environment variable {self.env}"
        return f"secret {self.role!r} ({where})" if self.role else where


def secret_sources(spec: PosSpec, overrides: Mapping[str, str]) -> dict[str, SecretSource]:
    """Every secret reference of ``spec`` → where this source reads it."""
    found: dict[str, SecretSource] = {}
    for _, ref in spec.auth.references():
        declared = spec.secrets.get(ref)
        if declared is None:
            found[ref] = SecretSource(ref, None, ref)
        else:
            found[ref] = SecretSource(ref, ref, overrides.get(ref, declared.env),
                                      declared.optional)
    return found


def unset_secrets(sources: Mapping[str, SecretSource],
                  environ: Mapping[str, str]) -> list[SecretSource]:
    return [s for s in sources.values()
            if not s.optional and not environ.get(s.env, "").strip()]


def read_secrets(source: str, sources: Mapping[str, SecretSource],
                 environ: Mapping[str, str]) -> dict[str, str]:
    """reference → value; a missing required secret is a configuration error naming the
    role and the variable (all of them at once)."""
    missing = unset_secrets(sources, environ)
    if missing:
        raise ConfigurationError(
            f"source {source}: " + "; ".join(f"{s.describe()} is not set" for s in missing)
            + " (secrets are read from the environment, never from the config file)")
    return {ref: environ.get(s.env, "").strip() for ref, s in sources.items()}


@dataclass(slots=True)
class _Token:
    value: str
    expires_at: float


class PosAuth(httpx.Auth):
    """An httpx ``Auth`` flow for every style the description can name."""

    def __init__(self, spec: AuthSpec, secrets: Mapping[str, str], source: str,
                 token_url: str | None = None, *, timeout_seconds: float = 30.0,
                 policy: RetryPolicy = SOURCE_POLICY,
                 sleep: Callable[[float], None] = time.sleep,
                 credentials_hint: str = "") -> None:
        """``secrets``: reference → value (:func:`read_secrets`); ``token_url``: the
        spec's, resolved against the base URL and the vars."""
        self.spec = spec
        self.source = source
        self.token_url = token_url or spec.token_url
        self._secrets = secrets
        self._token: _Token | None = None
        self.token_requests = 0
        self._token_http: SourceHttp | None = None
        if spec.kind == "oauth2":
            self._token_http = SourceHttp(source, timeout_seconds=timeout_seconds,
                                          policy=policy, sleep=sleep,
                                          credentials_hint=credentials_hint)

    def _secret(self, slot: str) -> str:
        ref = self.spec.secret_ref(slot)
        return "" if ref is None else self._secrets.get(ref, "")

    def invalidate(self) -> None:
        """Forget the cached token: the next request fetches a new one."""
        self._token = None

    def close(self) -> None:
        if self._token_http is not None:
            self._token_http.close()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response,
                                                              None]:
        request.headers.update({name: self._secrets.get(ref, "")
                                for name, ref in self.spec.headers.items()})
        spec = self.spec
        if spec.kind == "bearer":
            request.headers["Authorization"] = f"Bearer {self._secret('token')}"
        elif spec.kind == "header":
            assert spec.header is not None
            request.headers[spec.header] = spec.prefix + self._secret("value")
        elif spec.kind == "basic":
            request.headers["Authorization"] = httpx.BasicAuth(
                self._secret("username"), self._secret("password"))._auth_header
        elif spec.kind == "query":
            assert spec.param is not None
            request.url = request.url.copy_merge_params({spec.param: self._secret("value")})
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
        assert self.token_url is not None and self._token_http is not None
        form = {name: self._secrets.get(ref, "") for name, ref in spec.form.items()}
        if spec.grant_type != "form":
            form["grant_type"] = spec.grant_type
        for slot in ("client_id", "client_secret"):
            if spec.secret_ref(slot) is not None:
                form[slot] = self._secret(slot)
        if spec.grant_type == "password":
            form["username"] = self._secret("username")
            form["password"] = self._secret("password")
        self.token_requests += 1
        response = self._token_http.request(
            "POST", self.token_url, what="token request", data=form,
            refused=frozenset({400}))
        body = json_body(response, f"source {self.source}: token request")
        value = body.get(spec.token_field) if isinstance(body, dict) else None
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value):
            keys = sorted(body)[:10] if isinstance(body, dict) else type(body).__name__
            refusal = _refusal(body)
            if refusal is not None:  # Treez answers a refused client 200 resultCode FAIL
                hint = self._token_http.credentials_hint
                raise AuthenticationFailed(
                    f"source {self.source}: token request: refused ({refusal})"
                    + (f"; check {hint}" if hint else ""))
            raise SourceUnreadable(f"source {self.source}: the token endpoint's answer has "
                                   f"no {spec.token_field!r} (found: {keys})")
        try:
            lifetime = float(body.get(spec.expires_field) or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        lifetime = min(max(lifetime, 1.0), 30 * 86_400.0)
        early = min(EARLY_REFRESH_SECONDS, lifetime / 4)
        return _Token(str(value), time.monotonic() + lifetime - early)


def _refusal(body: object) -> str | None:
    """The reason an answer gives for failing (``resultCode``/``resultReason``, an OAuth
    ``error``), or ``None`` when it does not say it failed."""
    if not isinstance(body, dict):
        return None
    code = body.get("resultCode") or body.get("status")
    error = body.get("error")
    if isinstance(code, str) and code.upper() not in ("SUCCESS", "OK"):
        reason = body.get("resultReason") or body.get("message") or code
        return scrub(f"{code}: {reason}")[:200]
    if isinstance(error, str):
        return scrub(f"{error}: {body.get('error_description') or ''}")[:200]
    return None


__all__ = ["SECRET_SLOTS", "PosAuth", "SecretSource", "read_secrets", "secret_sources",
           "unset_secrets"]
