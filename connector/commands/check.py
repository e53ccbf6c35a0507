"""``sticky-sync check``: the configuration is valid (already, by loading it); now try
the state DB, each source's location and each workspace's credentials."""

from __future__ import annotations

from rich.console import Console

from connector.config import CsvSourceSettings, Settings
from connector.errors import AbortRun, ConfigurationError, StickySyncError
from connector.sync.orchestrator import ExitCode, sticker_client, sticky_client
from connector.webhooks.secrets import SecretBook, fingerprint
from state import StateStore


def _say(console: Console, ok: bool, text: str) -> None:
    # soft_wrap: a long error stays on one line, whole, whatever the terminal width
    console.print(("[green]ok[/]   " if ok else "[red]FAIL[/] ") + text, soft_wrap=True,
                  highlight=False)


async def check_command(settings: Settings, console: Console) -> ExitCode:
    failures = 0
    _say(console, True, "configuration")
    try:
        store = StateStore.open(settings.state.url)
        _say(console, True, f"state DB ({settings.state.url.split('@')[-1]})")
        try:
            failures += _check_webhooks(settings, store, console)
        finally:
            store.close()
    except ConfigurationError as exc:
        failures += 1
        _say(console, False, str(exc))
    except Exception as exc:  # noqa: BLE001 - report any driver error as a failed check
        failures += 1
        _say(console, False, f"state DB: {type(exc).__name__}: {exc}")
    for tenant in settings.tenants:
        for source in tenant.sources:
            if isinstance(source, CsvSourceSettings) and not source.drop_dir.is_dir():
                failures += 1
                _say(console, False, f"{tenant.id}/{source.name}: drop_dir "
                              f"{source.drop_dir} is not a folder")
            else:
                _say(console, True, f"{tenant.id}/{source.name} ({source.kind})")
    try:
        client = sticky_client(settings)
        sticker = sticker_client(settings)
    except ConfigurationError as exc:
        _say(console, False, f"{exc}")
        return ExitCode.CONFIG_ERROR
    if sticker is not None:
        # Sticker has no read endpoint to try a key on: only its presence is checked.
        await sticker.aclose()
        _say(console, True, f"Sticker API key present ({settings.sticker.base_url}; not "
                            "verified: Sticker has no read-only endpoint)")
    async with client:
        for tenant in settings.tenants:
            for workspace in tenant.all_workspaces:
                try:
                    await client.check_access(workspace)
                    _say(console, True, f"Sticky workspace {workspace}")
                except (AbortRun, StickySyncError) as exc:
                    failures += 1
                    _say(console, False, f"Sticky workspace {workspace}: {exc}")
    if failures:
        console.print(f"{failures} check(s) failed")
        return ExitCode.TARGET_UNREACHABLE
    return ExitCode.OK


def _check_webhooks(settings: Settings, store: StateStore, console: Console) -> int:
    """With ``[webhooks] url``: each workspace subscribed, with its signing secret at hand
    and the same one the subscription was made with. Returns the failures."""
    hooks = settings.webhooks
    if hooks.url is None:
        return 0
    secrets = SecretBook(hooks)
    failures = 0
    for workspace in settings.all_workspaces:
        sub = store.webhooks.subscription(workspace)
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
        failures += problem is not None
        _say(console, problem is None, f"webhooks {workspace}: " + (
            problem or f"subscribed ({sub.subscription_id if sub else '-'}), secret present"))
    return failures
