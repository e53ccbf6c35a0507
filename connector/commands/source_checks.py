"""What ``sticky-sync check`` finds about the state DB and each source: every source is
contacted (nothing is sent to Sticky), and a check that could not check says so.

Each finding is ``ok``, ``fail`` or ``note`` (something a person should know that does not
stop a run: a scope that limits history, a field no record on the first page had, a check
that could not be made), with what to fix named when it fails.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from adapters.csv_drop import files as drop_files
from adapters.pos import PosAdapter
from adapters.pos.adapter import StreamProbe
from adapters.shopify.client import ShopifyGraphQL
from adapters.shopify.probe import HISTORY_SCOPE, probe_shop
from connector.config import (
    CsvSourceSettings,
    PosSourceSettings,
    ShopifySourceSettings,
    SourceSettings,
    StateSettings,
    TenantSettings,
)
from connector.errors import (
    AuthenticationFailed,
    ConfigurationError,
    StateUnavailable,
    StickySyncError,
)
from connector.sources import pos_arguments
from state import StateStore
from state.db import DEFAULT_FOLDER, sqlite_file

Level = Literal["ok", "fail", "note"]
IDENTITY_FIELDS = {"customers": ("customer_id",), "orders": ("order_id", "total"),
                   "locations": ("store_id",)}
"""Fields without which a stream's records cannot be used: unresolved on a page of
records, they fail the check."""


@dataclass(frozen=True, slots=True)
class Finding:
    level: Level
    text: str
    config: bool = False
    """The fix is in the configuration (a key, a variable, a folder)."""


def _ok(text: str) -> Finding:
    return Finding("ok", text)


def _fail(text: str, *, config: bool = False) -> Finding:
    return Finding("fail", text, config)


def _note(text: str) -> Finding:
    return Finding("note", text)


# -- the state DB ------------------------------------------------------------------------
def check_state(state: StateSettings) -> tuple[list[Finding], StateStore | None]:
    """The state DB's findings, and the store when it exists and opened."""
    url = state.url
    shown = url.rsplit("@", maxsplit=1)[-1]
    try:
        path = sqlite_file(url)
    except ConfigurationError as exc:
        return [_fail(str(exc), config=True)], None
    if path is not None:
        creatable = path.parent.name == DEFAULT_FOLDER and path.parent.parent.is_dir()
        if not path.parent.is_dir() and creatable:
            return [_ok(f"state DB {path}: new (the first run creates {path.parent}/ and "
                        "the DB, readable by this user only)")], None
        if not path.parent.is_dir():
            return [_fail(f"state DB: state.url points into {path.parent}, which does not "
                          "exist; create the folder or fix state.url (a misspelt path would "
                          "start from an empty ledger and send everything again)",
                          config=True)], None
        if not path.exists():
            return [_ok(f"state DB {path}: new (the first run creates it, readable by this "
                        "user only)")], None
    try:
        store = state.open()
    except ConfigurationError as exc:
        return [_fail(f"state DB: {exc}", config=True)], None
    except StateUnavailable as exc:
        return [_fail(str(exc))], None
    except Exception as exc:  # noqa: BLE001 - any driver error is a failed check
        return [_fail(f"state DB ({shown}): {type(exc).__name__}: {exc}")], None
    runs, last = store.runs.count()
    held = (f"holds {runs} runs, the last started {last:%Y-%m-%d %H:%M} UTC" if runs and last
            else "holds no runs yet")
    exposed = [] if path is None else readable_by_others(path)
    return [_ok(f"state DB ({shown}): {held}"), *exposed], store


def readable_by_others(db: Path) -> list[Finding]:
    """A note per state DB file (the DB, its WAL and SHM) that users other than its owner
    can read: it holds phone numbers and e-mails (docs/privacy.md)."""
    notes = []
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                notes.append(_note(
                    f"state DB file {path} is readable by others (mode {mode:04o}) and holds "
                    f"phone numbers and e-mails: chmod 600 {path}"))
    return notes


# -- sources -----------------------------------------------------------------------------
def check_source(tenant: TenantSettings, source: SourceSettings) -> list[Finding]:
    label = f"{tenant.id}/{source.name}"
    if isinstance(source, CsvSourceSettings):
        return check_csv(label, source)
    if isinstance(source, ShopifySourceSettings):
        return check_shopify(label, source)
    if isinstance(source, PosSourceSettings):
        return check_pos(label, tenant, source)
    return [_fail(f"{label}: unknown source kind {source.kind!r}", config=True)]


def check_csv(label: str, source: CsvSourceSettings) -> list[Finding]:
    folder = source.drop_dir
    if not folder.is_dir():
        return [_fail(f"{label}: drop_dir {folder} is not a folder (fix drop_dir, or create "
                      "it)", config=True)]
    if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
        return [_fail(f"{label}: drop_dir {folder} is not readable and writable by this "
                      "user (files are read there and moved to processed/ and rejected/)",
                      config=True)]
    for name in (drop_files.PROCESSED, drop_files.REJECTED):
        sub = folder / name
        try:
            sub.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            return [_fail(f"{label}: cannot create {sub}: {exc.strerror or exc}",
                          config=True)]
        if not os.access(sub, os.W_OK | os.X_OK):
            return [_fail(f"{label}: {sub} is not writable by this user", config=True)]
    scan = drop_files.scan(folder, time.time(), source.stable_seconds)
    waiting = f", {len(scan.waiting)} still being written" if scan.waiting else ""
    found = [_ok(f"{label} (csv): {folder} readable and writable, processed/ and rejected/ "
                 f"ready; {len(scan.ready)} file(s) to read{waiting}")]
    if scan.unrecognized:
        found.append(_note(f"{label}: files that are not customers*/orders*/refunds*/"
                           f"stores*.csv are left alone: {', '.join(scan.unrecognized[:5])}"))
    return found


def check_shopify(label: str, source: ShopifySourceSettings) -> list[Finding]:
    try:
        token = source.access_token()
    except ConfigurationError as exc:
        return [_fail(f"{label}: {exc}", config=True)]
    try:
        with ShopifyGraphQL(source.endpoint, source.api_version, token,
                            timeout_seconds=source.timeout_seconds,
                            max_attempts=min(source.max_attempts, 3)) as gql:
            shop = probe_shop(gql)
    except AuthenticationFailed as exc:
        return [_fail(f"{label}: {exc}; check {source.access_token_env}", config=True)]
    except StickySyncError as exc:
        return [_fail(f"{label}: {exc} (shop = {source.shop!r}"
                      + (f", base_url = {source.base_url!r}" if source.base_url else "")
                      + ")")]
    found = [_ok(f"{label} (shopify): the token works; shop {shop.shop} "
                 f"({shop.domain}) answered")]
    if shop.version_served_as_asked:
        found.append(_ok(f"{label}: API version {shop.requested_version} served"))
    else:
        found.append(_fail(
            f"{label}: api_version {shop.requested_version} is not supported any more: "
            f"Shopify answered as {shop.served_version}; set api_version to a supported "
            "version", config=True))
    found.append(_ok(f"{label}: scopes granted: {', '.join(shop.scopes) or 'none'}")
                 if not shop.missing_scopes else _fail(
        f"{label}: the app lacks the scope(s) {', '.join(shop.missing_scopes)} (granted: "
        f"{', '.join(shop.scopes) or 'none'}); add them to the app and reinstall it"))
    if HISTORY_SCOPE not in shop.scopes:
        found.append(_note(f"{label}: without {HISTORY_SCOPE} Shopify shows only the last 60 "
                           "days of orders"))
    if shop.customer_data == "granted":
        found.append(_ok(f"{label}: protected customer data (name, e-mail, phone) readable"))
    elif shop.customer_data == "refused":
        found.append(_fail(f"{label}: protected customer data refused: "
                           f"{shop.customer_data_detail}; request access to name, e-mail "
                           "and phone in the app's settings"))
    else:
        found.append(_note(f"{label}: protected customer data not verified: "
                           f"{shop.customer_data_detail}"))
    return found


def check_pos(label: str, tenant: TenantSettings,
              source: PosSourceSettings) -> list[Finding]:
    try:
        adapter = PosAdapter(**pos_arguments(source, tenant))
    except ConfigurationError as exc:
        return [_fail(f"{label}: {exc}", config=True)]
    spec_name = adapter.spec.name
    try:
        probes = adapter.probe()
    except (AuthenticationFailed, ConfigurationError) as exc:
        return [_fail(f"{label}: {exc}", config=True)]
    except StickySyncError as exc:
        where = f"base_url = {adapter.base_url!r}"
        return [_fail(f"{label}: {exc} ({where} in the source or {source.spec.name})")]
    found = [_ok(f"{label} (pos, {spec_name}): {adapter.base_url} answered"
                 + ("; a token was obtained" if adapter.auth and adapter.auth.token_requests
                    else ""))]
    for probe in probes:
        found.extend(_stream_findings(label, source.spec, probe))
    return found


def _stream_findings(label: str, spec: Path, probe: StreamProbe) -> list[Finding]:
    where = f"streams.{probe.stream} in {spec.name}"
    if probe.records is None:
        return [_fail(f"{label}: {probe.stream}: no list of records at the selectors of "
                      f"{where}: the answer is {probe.body}", config=True)]
    if probe.records == 0:
        return [_note(f"{label}: {probe.stream}: the first page is empty: the fields could "
                      "not be checked on records")]
    found = [_ok(f"{label}: {probe.stream}: {probe.records} record(s) on the first page")]
    must = [f for f in probe.unresolved if f in IDENTITY_FIELDS.get(probe.stream, ())]
    rest = [f for f in probe.unresolved if f not in must]
    if must:
        found.append(_fail(f"{label}: {probe.stream}: {', '.join(must)} found in none of the "
                           f"{probe.records} records: check {where}.fields", config=True))
    if rest:
        found.append(_note(f"{label}: {probe.stream}: {', '.join(rest)} empty in all "
                           f"{probe.records} records of the first page (check {where}.fields "
                           "if they should not be)"))
    return found


__all__ = ["Finding", "check_source", "check_state"]
