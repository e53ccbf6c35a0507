"""Configuration: a TOML file plus ``STICKY_SYNC_`` environment overrides (``__`` nests).

Secrets (API keys) come only from the environment or from a file the config points at;
a key written into the TOML file itself is refused. Relative paths in the file are
resolved against the file's directory, so a cron job behaves like a shell in that folder.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar
from urllib.parse import urlsplit

import phonenumbers
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from adapters.pos.spec import PosSpec, load_spec
from connector.config_errors import describe
from connector.errors import ConfigurationError, RecordProblem
from connector.mapping.email import normalize_email
from connector.mapping.locations import AddressText, contact_phone, sticker_address
from connector.mapping.organization import OrganizationFacts, StickerUser
from connector.mapping.timestamps import valid_zone
from connector.schedule import parse_duration, parse_schedule
from state import StateStore

_T = TypeVar("_T")

ENV_PREFIX = "STICKY_SYNC_"
CONFIG_ENV = "STICKY_SYNC_CONFIG"
API_KEY_ENV = "STICKY_SYNC_STICKY__API_KEY"
STICKER_KEY_ENV = "STICKY_SYNC_STICKER__API_KEY"

_SLUG = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StateSettings(_Section):
    url: str = "sqlite:///./var/sticky-sync.db"
    lease_ttl_seconds: float = Field(default=120.0, ge=5.0)
    """How long a (tenant, source) lease outlives its holder's last renewal."""
    busy_timeout_seconds: float = Field(default=30.0, ge=0.1, le=3600)
    """How long a SQLite state DB locked by another process is waited for (said once)
    before the command gives up with exit code 5."""

    def open(self) -> StateStore:
        """The state DB, opened (and migrated) with these settings."""
        return StateStore.open(self.url, busy_timeout=self.busy_timeout_seconds)


class DaemonSettings(_Section):
    """``sticky-sync daemon``: its health/metrics server and how it stops."""

    host: str = "127.0.0.1"
    port: int = Field(9464, ge=0, le=65535)
    """Port of ``/healthz`` and ``/metrics``; 0 serves neither."""
    drain_seconds: float = Field(30.0, ge=0)
    """On SIGTERM, how long running passes may take to settle what they have read
    before they are cancelled (their pending rows are resent by the next run)."""
    misfire_grace_seconds: float = Field(60.0, ge=1)
    """A scheduled pass that could not start within this long of its time is skipped."""
    header_timeout_seconds: float = Field(10.0, gt=0, le=300)
    """A connection to the health server or the webhook receiver must send its request
    headers within this long (slow clients are cut off: connector/daemon/guard.py)."""
    body_timeout_seconds: float = Field(20.0, gt=0, le=600)
    """...and its body within this long of the headers."""
    keep_alive_seconds: float = Field(5.0, gt=0, le=300)
    """An idle kept-alive connection is closed after this long."""
    max_connections: int = Field(1000, ge=16, le=100_000)
    """Open connections at most (both servers together; lowered to fit the open-file
    limit). At the cap a new connection evicts the oldest idle or slow one."""
    max_connections_per_client: int = Field(32, ge=1, le=10_000)
    """Beyond this many from one address, a connection gets 1 s for its headers."""


WEBHOOK_EVENTS = ("customer.tier_changed", "pass.installed", "journey.entered")
WEBHOOK_SECRET_ENV_PREFIX = "STICKY_SYNC_WEBHOOK_SECRET_"  # noqa: S105 - a variable name


class WebhookSettings(_Section):
    """Sticky webhooks: where Sticky posts them and how the receiver checks them
    (docs/webhooks.md)."""

    url: str | None = None
    """Public URL Sticky posts to; ``{workspace}`` is replaced per workspace (one
    subscription each). The receiver serves this URL's path."""
    events: Annotated[list[Annotated[str, Field(pattern=r"^[a-z_]+\.[a-z_]+$")]],
                      Field(min_length=1)] = Field(default_factory=lambda: list(WEBHOOK_EVENTS))
    tolerance_seconds: int = Field(300, ge=30, le=3600)
    """A delivery signed longer ago (or further ahead) than this is refused as a replay."""
    secrets_file: Path = Path("./var/webhook-secrets.json")
    """Signing secrets by workspace, written by ``webhooks subscribe`` (mode 600);
    ``STICKY_SYNC_WEBHOOK_SECRET_<WORKSPACE>`` in the environment wins over it."""
    host: str | None = None
    port: int | None = Field(None, ge=0, le=65535)
    """Set to serve the receiver on its own port (else on the daemon's health server,
    next to /healthz and /metrics)."""
    max_body_bytes: int = Field(256 * 1024, ge=1024)

    @field_validator("url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^\s/]+/\S*$", value):
            raise ValueError("must be an absolute http(s) URL with a path, such as "
                             "https://sync.example.com/webhooks/sticky/{workspace}")
        if value.count("{") != value.count("{workspace}") or "}" in value.replace(
                "{workspace}", ""):
            raise ValueError("the only placeholder allowed is {workspace}")
        return value

    def url_for(self, workspace: str) -> str:
        if self.url is None:
            raise ConfigurationError("webhooks.url is not set: the public URL Sticky posts "
                                     "to (docs/webhooks.md)")
        return self.url.replace("{workspace}", workspace)

    @property
    def route(self) -> str:
        """The receiver's path (``{workspace}`` stays a path parameter)."""
        if self.url is None:
            return "/webhooks/sticky/{workspace}"
        path = urlsplit(self.url.replace("{workspace}", "__ws__")).path or "/"
        return path.replace("__ws__", "{workspace}")

    @staticmethod
    def secret_env(workspace: str) -> str:
        return WEBHOOK_SECRET_ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", workspace.upper())


class _ApiSettings(_Section):
    """Where a partner API is and how hard to try: shared by ``[sticky]`` and ``[sticker]``."""

    section: ClassVar[str]
    key_env: ClassVar[str]

    base_url: str
    api_key: SecretStr | None = None
    api_key_file: Path | None = None
    timeout_seconds: float = Field(15.0, gt=0)
    max_attempts: int = Field(8, ge=1, le=50)
    retry_budget_seconds: float = Field(300.0, gt=0)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as https://api.example.com")
        return value.rstrip("/")

    def resolved_api_key(self) -> SecretStr | None:
        if self.api_key is not None and self.api_key.get_secret_value().strip():
            return SecretStr(self.api_key.get_secret_value().strip())
        if self.api_key_file is not None:
            try:
                text = self.api_key_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigurationError(
                    f"{self.section}.api_key_file: cannot read {self.api_key_file}: "
                    f"{exc.strerror}") from exc
            return SecretStr(text) if text else None
        return None

    def require_api_key(self) -> SecretStr:
        key = self.resolved_api_key()
        if key is None:
            raise ConfigurationError(
                f"{self.section}: no API key; set {self.key_env} or "
                f"{self.section}.api_key_file")
        return key


class StickySettings(_ApiSettings):
    section: ClassVar[str] = "sticky"
    key_env: ClassVar[str] = API_KEY_ENV

    base_url: str = "https://api.sticky.co"
    rate_limit_per_second: int = Field(100, ge=1, le=10_000)
    rate_limit_headroom: float = Field(
        0.02, ge=0.0, lt=0.5,
        description="fraction of the cap kept free for clock skew and network bunching")
    max_in_flight_per_workspace: int = Field(
        16, ge=1, le=256,
        description="requests on their way per workspace; each holds its slot until its "
                    "answer is committed (about latency + 50 ms)")


class StickerSettings(_ApiSettings):
    """Sticker documents no rate limit: requests are paced at a conservative default."""

    section: ClassVar[str] = "sticker"
    key_env: ClassVar[str] = STICKER_KEY_ENV

    base_url: str = "https://api.usesticker.com"
    rate_limit_per_second: int = Field(5, ge=1, le=1000)
    timeout_seconds: float = Field(30.0, gt=0)
    max_attempts: int = Field(6, ge=1, le=50)
    retry_budget_seconds: float = Field(120.0, gt=0)


def _record_problem_as_value_error(call: Callable[[], _T]) -> _T:
    try:
        return call()
    except RecordProblem as problem:
        raise ValueError(str(problem)) from problem


def _sticker_email(value: str) -> str:
    email = _record_problem_as_value_error(lambda: normalize_email(value))
    if email is None:
        raise ValueError(f"{value!r} is not an e-mail address Sticker can use")
    return email


class AddressSettings(_Section):
    line1: Annotated[str, Field(min_length=1)]
    line2: str | None = None
    city: Annotated[str, Field(min_length=1)]
    state: Annotated[str, Field(min_length=1)]
    zip: Annotated[str, Field(min_length=1)]
    country: str | None = None

    @model_validator(mode="after")
    def _valid(self) -> AddressSettings:
        self.sticker()
        return self

    def sticker(self) -> dict[str, str]:
        """The Sticker address object (state as its full name, ZIP canonical)."""
        text = AddressText(self.line1, self.line2, self.city, self.state, self.zip,
                           self.country)
        return _record_problem_as_value_error(lambda: sticker_address(text))


class StickerUserSettings(_Section):
    internal_user_id: Annotated[str, Field(min_length=1, max_length=255)]
    first_name: Annotated[str, Field(min_length=1, max_length=100)]
    last_name: Annotated[str, Field(min_length=1, max_length=100)]
    email: str
    phone: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return _sticker_email(value)

    def user(self, region: str) -> StickerUser:
        phone = contact_phone(self.phone, region) if self.phone else None
        return StickerUser(self.internal_user_id, self.first_name.strip(),
                           self.last_name.strip(), self.email, phone)


class TenantStickerSettings(_Section):
    """This tenant as a Sticker organization (one business); absent = not set up."""

    internal_org_id: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    organization_name: Annotated[str | None, Field(min_length=1, max_length=255)] = None
    organization_email: str | None = None
    organization_phone: str | None = None
    billing_address: AddressSettings | None = None
    users: Annotated[list[StickerUserSettings], Field(min_length=1)]
    default_location: str | None = None
    wait_for_locations: bool = True

    @field_validator("organization_email")
    @classmethod
    def _org_email(cls, value: str | None) -> str | None:
        return None if value is None else _sticker_email(value)

    @model_validator(mode="after")
    def _unique_users(self) -> TenantStickerSettings:
        ids = [u.internal_user_id for u in self.users]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"users: internal_user_id must be unique: {dupes}")
        return self


class CsvSourceSettings(_Section):
    kind: Literal["csv"]
    name: Annotated[str, Field(pattern=_SLUG)]
    drop_dir: Path
    schedule: str = "every 5m"
    stable_seconds: float = Field(5.0, ge=0)
    batch_size: int = Field(500, ge=1, le=10_000)
    columns: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        parse_schedule(value)
        return value


class ShopifySourceSettings(_Section):
    """A Shopify store read through the GraphQL Admin API (token from the environment)."""

    kind: Literal["shopify"]
    name: Annotated[str, Field(pattern=_SLUG)]
    shop: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*(\.myshopify\.com)?$")]
    api_version: Annotated[str, Field(pattern=r"^(\d{4}-(01|04|07|10)|unstable)$")] = "2026-07"
    access_token_env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")] = (
        "SHOPIFY_ACCESS_TOKEN")  # noqa: S105 - the name of a variable, not a secret
    schedule: str = "every 5m"
    lookback: str = "10m"
    safety_margin: str = "60s"
    start_date: date | None = None
    page_size: int = Field(50, ge=1, le=250)
    batch_size: int = Field(250, ge=1, le=10_000)
    backfill_window_days: int = Field(30, ge=1, le=366)
    base_url: str | None = None
    timeout_seconds: float = Field(30.0, gt=0)
    max_attempts: int = Field(6, ge=1, le=50)
    write_back_tier: bool = False
    """Tag each customer with its Sticky tier (``sticky-tier:<tier>``) when a
    ``customer.tier_changed`` webhook arrives; needs the write_customers scope."""
    tier_tag_prefix: Annotated[str, Field(min_length=1, max_length=64)] = "sticky-tier:"

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        parse_schedule(value)
        return value

    @field_validator("lookback", "safety_margin")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL (only for a proxy or a test double)")
        return None if value is None else value.rstrip("/")

    @property
    def endpoint(self) -> str:
        """``https://{shop}.myshopify.com`` unless ``base_url`` overrides it."""
        if self.base_url is not None:
            return self.base_url
        host = self.shop if self.shop.endswith(".myshopify.com") else (
            f"{self.shop}.myshopify.com")
        return f"https://{host}"

    def access_token(self, environ: Mapping[str, str] | None = None) -> SecretStr:
        env = os.environ if environ is None else environ
        token = env.get(self.access_token_env, "").strip()
        if not token:
            raise ConfigurationError(
                f"source {self.name}: no Shopify access token; set {self.access_token_env} "
                "in the environment (tokens are never read from the config file)")
        return SecretStr(token)


class PosSourceSettings(_Section):
    """A REST POS described by a TOML file (``spec``; presets in ``examples/pos/``)."""

    kind: Literal["pos"]
    name: Annotated[str, Field(pattern=_SLUG)]
    spec: Path
    base_url: str | None = None
    vars: dict[str, str] = Field(default_factory=dict)
    secrets: dict[str, Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")]] = Field(
        default_factory=dict)
    """Secret role (the description's ``[secrets]``) → the environment variable that
    holds it for this source (one key per store)."""
    timezone: str | None = None
    """The store's zone, when the description leaves it to the store (default: the
    tenant's)."""
    start_date: date | None = None
    """Where a first read starts when the API needs a lower bound (default: the
    description's ``initial``, else 2000-01-01)."""
    schedule: str = "every 5m"
    batch_size: int = Field(250, ge=1, le=10_000)
    timeout_seconds: float = Field(30.0, gt=0)
    max_attempts: int = Field(5, ge=1, le=50)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        parse_schedule(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else valid_zone(value)

    @model_validator(mode="after")
    def _fits_description(self) -> PosSourceSettings:
        # A bad description fails at config load, naming its keys; so do vars and
        # secrets that the description does not know, and vars it needs but lacks.
        try:
            spec = load_spec(self.spec)
        except ValueError as exc:
            raise ValueError(f"spec: {exc}") from exc
        used = spec.used_vars()
        known = used | set(spec.vars)
        unknown = sorted(set(self.vars) - known)
        if unknown:
            raise ValueError(
                f"vars: {', '.join(unknown)} not used by {self.spec.name} (it uses: "
                f"{', '.join(sorted(known)) or 'none'}); check the spelling")
        missing = sorted(used - set(self.vars))
        if missing:
            raise ValueError(
                f"vars: {', '.join(missing)} must be set: {self.spec.name} uses "
                + ", ".join(f"{{{m}}}" + (f" ({spec.vars[m]})" if m in spec.vars else "")
                            for m in missing))
        roles = sorted(set(self.secrets) - set(spec.secrets))
        if roles:
            raise ValueError(f"secrets: {', '.join(roles)} is not a secret role of "
                             f"{self.spec.name} (its roles: "
                             f"{', '.join(sorted(spec.secrets)) or 'none'})")
        return self

    def description(self) -> PosSpec:
        return load_spec(self.spec)


class TenantPassesSettings(_Section):
    """Wallet passes (opt-in per tenant: the section's presence turns them on)."""

    mint_on_create: bool = True
    """Mint a pass for each customer the connector creates in Sticky (docs/passes.md:
    how an answer says the customer was created)."""
    mint_for_existing: bool = False
    """Also mint for a customer the connector sends for the first time who was already
    in Sticky (the answer's ``created_at`` is older than the connector's first attempt),
    or whose answer does not say."""
    clock_skew_seconds: int = Field(60, ge=0, le=86_400)
    """How far Sticky's clock may lag this machine's: a ``created_at`` up to this much
    before the connector first staged the customer still counts as created by it."""
    remint_expired: bool = False
    """Mint again when a link expired unused (needs ``pass.installed`` webhooks, else
    an installed pass cannot be told from an unused one)."""
    max_remints: int = Field(3, ge=1, le=100)
    """With ``remint_expired``: new links per customer at most (a customer who never
    installs does not get a fresh link every day for ever); ``passes mint --remint``
    is not limited."""


SourceSettings = Annotated[CsvSourceSettings | ShopifySourceSettings | PosSourceSettings,
                           Field(discriminator="kind")]


class TenantSettings(_Section):
    id: Annotated[str, Field(pattern=_SLUG)]
    name: str
    default_workspace: Annotated[str, Field(min_length=1, max_length=100)]
    phone_region: str = "US"
    timezone: str = "UTC"
    workspaces: dict[Annotated[str, Field(min_length=1)],
                     Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=dict)
    """Store id → the Sticky workspace of that store (an empty one is refused)."""
    unmapped_stores: Literal["default", "hold"] = "default"
    """A record whose store ``workspaces`` does not map: ``default`` sends it to the
    default workspace (and says so in the summary), ``hold`` keeps it in quarantine until
    the map names a workspace for the store (then it is replayed)."""
    sources: list[SourceSettings] = Field(default_factory=list)
    sticker: TenantStickerSettings | None = None
    passes: TenantPassesSettings | None = None

    @field_validator("phone_region")
    @classmethod
    def _region(cls, value: str) -> str:
        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region code such as US or CA")
        return region

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return valid_zone(value)

    @model_validator(mode="after")
    def _unique_sources(self) -> TenantSettings:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique within a tenant: {dupes}")
        return self

    def workspace_for(self, store_id: str | None) -> str:
        if store_id is not None and store_id in self.workspaces:
            return self.workspaces[store_id]
        return self.default_workspace

    @property
    def all_workspaces(self) -> list[str]:
        return sorted({self.default_workspace, *self.workspaces.values()})

    @property
    def internal_org_id(self) -> str | None:
        """Sticker's key for this business: configured, else the tenant id."""
        if self.sticker is None:
            return None
        return self.sticker.internal_org_id or self.id

    def organization(self) -> OrganizationFacts | None:
        """The Sticker organization facts, or ``None`` when Sticker is not configured."""
        cfg = self.sticker
        if cfg is None:
            return None
        phone = cfg.organization_phone
        return OrganizationFacts(
            internal_org_id=self.internal_org_id or self.id,
            name=cfg.organization_name or self.name,
            users=tuple(u.user(self.phone_region) for u in cfg.users),
            billing_address=cfg.billing_address.sticker() if cfg.billing_address else None,
            email=cfg.organization_email,
            phone=contact_phone(phone, self.phone_region) if phone else None,
            default_store=cfg.default_location)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True)

    state: StateSettings = StateSettings()
    sticky: StickySettings = StickySettings()
    sticker: StickerSettings = StickerSettings()
    daemon: DaemonSettings = DaemonSettings()
    webhooks: WebhookSettings = WebhookSettings()
    tenants: list[TenantSettings] = Field(default_factory=list)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init kwargs; the environment must win over it.
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _unique_tenants(self) -> Settings:
        ids = [t.id for t in self.tenants]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"tenant ids must be unique: {dupes}")
        orgs = [t.internal_org_id for t in self.tenants if t.internal_org_id is not None]
        shared = sorted({o for o in orgs if orgs.count(o) > 1})
        if shared:
            raise ValueError("tenants.sticker.internal_org_id: different businesses must "
                             f"not share an organization id: {shared}")
        for tenant in self.tenants:
            if (tenant.passes is not None and tenant.passes.remint_expired
                    and "pass.installed" not in self.webhooks.events):
                raise ValueError(
                    f"tenants[{tenant.id}].passes.remint_expired needs the pass.installed "
                    "webhook (webhooks.events): without it an installed pass cannot be told "
                    "from an unused one, and the customer would get a second pass")
        return self

    @property
    def all_workspaces(self) -> list[str]:
        """Every Sticky workspace any tenant sends to, sorted."""
        return sorted({ws for t in self.tenants for ws in t.all_workspaces})

    def tenant(self, tenant_id: str) -> TenantSettings:
        for tenant in self.tenants:
            if tenant.id == tenant_id:
                return tenant
        raise KeyError(tenant_id)


def load_settings(path: Path | str | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Read the config file (``path`` or ``$STICKY_SYNC_CONFIG``) with env overrides."""
    env = os.environ if environ is None else environ
    raw_path = path if path is not None else env.get(CONFIG_ENV)
    if not raw_path:
        raise ConfigurationError(
            f"no configuration: pass --config FILE or set {CONFIG_ENV} "
            "(config.example.toml documents every key)")
    config_path = Path(raw_path).expanduser()
    data = _read_toml(config_path)
    _refuse_inline_secrets(data)
    _resolve_paths(data, config_path.resolve().parent)
    return build_settings(data, source=str(config_path))


def build_settings(data: dict[str, Any], source: str = "<config>",
                   environ: Mapping[str, str] | None = None) -> Settings:
    try:
        return Settings(**data)
    except ValidationError as exc:
        env = os.environ if environ is None else environ
        raise ConfigurationError(
            f"{source}: {exc.error_count()} problem(s) in the configuration",
            problems=[describe(err, data, Settings, env, ENV_PREFIX)
                      for err in exc.errors()]) from exc


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigurationError(f"config file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigurationError(f"config file {path}: {exc.strerror}") from exc


_API_SECTIONS = {"sticky": API_KEY_ENV, "sticker": STICKER_KEY_ENV}


def _refuse_inline_secrets(data: dict[str, Any]) -> None:
    for name, env in _API_SECTIONS.items():
        section = data.get(name)
        if isinstance(section, dict) and "api_key" in section:
            raise ConfigurationError(
                f"{name}.api_key: API keys may not be written in the config file; set "
                f"{env} in the environment or point {name}.api_key_file at a file")


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    for name in _API_SECTIONS:
        section = data.get(name)
        if isinstance(section, dict) and isinstance(section.get("api_key_file"), str):
            section["api_key_file"] = str(_under(base, section["api_key_file"]))
    state = data.get("state")
    if isinstance(state, dict) and isinstance(state.get("url"), str):
        state["url"] = _resolve_sqlite_url(state["url"], base)
    hooks = data.get("webhooks")
    if isinstance(hooks, dict) and isinstance(hooks.get("secrets_file"), str):
        hooks["secrets_file"] = str(_under(base, hooks["secrets_file"]))
    for tenant in data.get("tenants", []) if isinstance(data.get("tenants"), list) else []:
        for source in tenant.get("sources", []) if isinstance(tenant, dict) else []:
            for key in ("drop_dir", "spec"):
                if isinstance(source, dict) and isinstance(source.get(key), str):
                    source[key] = str(_under(base, source[key]))


def _under(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _resolve_sqlite_url(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url.startswith("sqlite:////") or url == "sqlite://":
        return url
    rest = url[len(prefix):]
    if rest.startswith(":memory:"):
        return url
    return prefix + str(_under(base, rest))
