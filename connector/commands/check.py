"""``sticky-sync check``: the configuration is valid (already, by loading it); now the
state DB, every source (contacted, read one page, nothing sent), each workspace's
credentials and webhook subscriptions. Exits non-zero when anything fails: 2 when the fix
is in the configuration (a key, a variable, a folder), else 4."""

from __future__ import annotations

import asyncio

from rich.console import Console
from rich.text import Text

from connector.commands.source_checks import Finding, check_source, check_state
from connector.config import Settings
from connector.errors import AbortRun, ConfigurationError, StickySyncError
from connector.outcomes import ExitCode
from connector.sync.orchestrator import sticker_client, sticky_client
from connector.webhooks.secrets import SecretBook, fingerprint
from state import StateStore

_STYLE = {"ok": ("ok   ", "green"), "fail": ("FAIL ", "red"), "note": ("note ", "yellow")}


def _say(console: Console, finding: Finding) -> None:
    # Text, not markup: an error naming [tenants.workspaces] keeps its brackets;
    # soft_wrap: a long error stays on one line, whole, whatever the terminal width
    word, style = _STYLE[finding.level]
    console.print(Text(word, style=style) + Text(finding.text), soft_wrap=True,
                  highlight=False)


async def check_command(settings: Settings, console: Console) -> ExitCode:
    findings: list[Finding] = []

    def say(finding: Finding) -> None:
        findings.append(finding)
        _say(console, finding)

    say(Finding("ok", "configuration"))
    state, store = check_state(settings.state)
    for finding in state:
        say(finding)
    try:
        for finding in _check_webhooks(settings, store):
            say(finding)
    finally:
        if store is not None:
            store.close()
    for tenant in settings.tenants:
        for source in tenant.sources:
            for finding in await asyncio.to_thread(check_source, tenant, source):
                say(finding)
    for finding in await _check_targets(settings):
        say(finding)
    failed = [f for f in findings if f.level == "fail"]
    if not failed:
        return ExitCode.OK
    console.print(f"{len(failed)} check(s) failed")
    return ExitCode.CONFIG_ERROR if any(f.config for f in failed) else (
        ExitCode.TARGET_UNREACHABLE)


async def _check_targets(settings: Settings) -> list[Finding]:
    try:
        client = sticky_client(settings)
        sticker = sticker_client(settings)
    except ConfigurationError as exc:
        return [Finding("fail", str(exc), config=True)]
    found: list[Finding] = []
    if sticker is not None:
        # Sticker has no read endpoint to try a key on: only its presence is checked.
        await sticker.aclose()
        found.append(Finding("note", f"Sticker API key present ({settings.sticker.base_url});"
                             " not verified: Sticker has no read-only endpoint"))
    async with client:
        for tenant in settings.tenants:
            for workspace in tenant.all_workspaces:
                try:
                    await client.check_access(workspace)
                    found.append(Finding("ok", f"Sticky workspace {workspace}"))
                except (AbortRun, StickySyncError) as exc:
                    found.append(Finding("fail", f"Sticky workspace {workspace} (sticky."
                                         f"base_url = {settings.sticky.base_url}): {exc}"))
    return found


def _check_webhooks(settings: Settings, store: StateStore | None) -> list[Finding]:
    """With ``[webhooks] url``: each workspace subscribed, with its signing secret at hand
    and the same one the subscription was made with (``store`` ``None``: a state DB not
    created yet, which records no subscription)."""
    hooks = settings.webhooks
    if hooks.url is None:
        return []
    secrets = SecretBook(hooks)
    found: list[Finding] = []
    for workspace in settings.all_workspaces:
        sub = store.webhooks.subscription(workspace) if store is not None else None
        secret = secrets.secret(workspace)
        problem = None
        if sub is None or sub.url != hooks.url_for(workspace) or sorted(sub.events) != sorted(
                hooks.events):
            problem = "not subscribed as configured: run `sticky-sync webhooks subscribe`"
        elif secret is None:
            problem = (f"no signing secret: set {hooks.secret_env(workspace)} or run "
                       "`sticky-sync webhooks subscribe` again")
        elif sub.secret_fingerprint and fingerprint(secret) != sub.secret_fingerprint:
            problem = ("the signing secret at hand is not the one this subscription was "
                       "made with: deliveries would be refused")
        found.append(Finding("ok" if problem is None else "fail", f"webhooks {workspace}: " + (
            problem or f"subscribed ({sub.subscription_id if sub else '-'}), secret present")))
    return found
