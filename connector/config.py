"""Configuration: a TOML file plus ``STICKY_SYNC_`` environment overrides (``__`` nests).

Secrets (API keys) come only from the environment or from a file the config points at;
a key written into the TOML file itself is refused. Relative paths in the file are
resolved against the file's directory, so a cron job behaves like a shell in that folder.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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

from connector.errors import ConfigurationError
from connector.schedule import parse_schedule

ENV_PREFIX = "STICKY_SYNC_"
CONFIG_ENV = "STICKY_SYNC_CONFIG"
API_KEY_ENV = "STICKY_SYNC_STICKY__API_KEY"

_SLUG = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StateSettings(_Section):
    url: str = "sqlite:///./var/sticky-sync.db"


class StickySettings(_Section):
    base_url: str = "https://api.sticky.co"
    api_key: SecretStr | None = None
    api_key_file: Path | None = None
    rate_limit_per_second: int = Field(100, ge=1, le=10_000)
    rate_limit_headroom: float = Field(
        0.03, ge=0.0, lt=0.5,
        description="fraction of the cap kept free for clock skew and network bunching")
    max_in_flight_per_workspace: int = Field(8, ge=1, le=256)
    timeout_seconds: float = Field(15.0, gt=0)
    max_attempts: int = Field(8, ge=1, le=50)
    retry_budget_seconds: float = Field(300.0, gt=0)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as https://api.sticky.co")
        return value.rstrip("/")

    def resolved_api_key(self) -> SecretStr | None:
        if self.api_key is not None and self.api_key.get_secret_value().strip():
            return SecretStr(self.api_key.get_secret_value().strip())
        if self.api_key_file is not None:
            try:
                text = self.api_key_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigurationError(
                    f"sticky.api_key_file: cannot read {self.api_key_file}: {exc.strerror}"
                ) from exc
            return SecretStr(text) if text else None
        return None


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


SourceSettings = Annotated[CsvSourceSettings, Field(discriminator="kind")]


class TenantSettings(_Section):
    id: Annotated[str, Field(pattern=_SLUG)]
    name: str
    default_workspace: Annotated[str, Field(min_length=1, max_length=100)]
    phone_region: str = "US"
    timezone: str = "UTC"
    workspaces: dict[str, str] = Field(default_factory=dict)
    sources: list[SourceSettings] = Field(default_factory=list)

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
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone such as "
                             "America/Los_Angeles") from exc
        return value

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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True)

    state: StateSettings = StateSettings()
    sticky: StickySettings = StickySettings()
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
        return self

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


def build_settings(data: dict[str, Any], source: str = "<config>") -> Settings:
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigurationError(
            f"{source}: {exc.error_count()} problem(s) in the configuration",
            problems=[_describe(err) for err in exc.errors()]) from exc


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


def _refuse_inline_secrets(data: dict[str, Any]) -> None:
    sticky = data.get("sticky")
    if isinstance(sticky, dict) and "api_key" in sticky:
        raise ConfigurationError(
            "sticky.api_key: API keys may not be written in the config file; set "
            f"{API_KEY_ENV} in the environment or point sticky.api_key_file at a file")


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    sticky = data.get("sticky")
    if isinstance(sticky, dict) and isinstance(sticky.get("api_key_file"), str):
        sticky["api_key_file"] = str(_under(base, sticky["api_key_file"]))
    state = data.get("state")
    if isinstance(state, dict) and isinstance(state.get("url"), str):
        state["url"] = _resolve_sqlite_url(state["url"], base)
    for tenant in data.get("tenants", []) if isinstance(data.get("tenants"), list) else []:
        for source in tenant.get("sources", []) if isinstance(tenant, dict) else []:
            if isinstance(source, dict) and isinstance(source.get("drop_dir"), str):
                source["drop_dir"] = str(_under(base, source["drop_dir"]))


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


def _describe(err: Mapping[str, Any]) -> str:
    loc = ""
    for part in err.get("loc", ()):
        if isinstance(part, int):
            loc += f"[{part}]"
        elif part not in {"csv"}:  # discriminator tags add noise to the path
            loc += f".{part}" if loc else str(part)
    msg = str(err.get("msg", "invalid"))
    if err.get("type") == "extra_forbidden":
        msg = "unknown key (check the spelling against config.example.toml)"
    elif err.get("type") == "missing":
        msg = "required key is missing"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return f"{loc or '<root>'}: {msg}"
