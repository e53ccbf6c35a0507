"""``sticky-sync demo``: the bundled sandbox + the bundled sample drop + two passes.

It writes a real config file into the scratch folder and loads it like any run would,
so the demo exercises the same configuration path as production.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from rich.console import Console
from rich.text import Text

from connector.commands.passes import csv_text, export_rows
from connector.commands.run import run_command
from connector.config import API_KEY_ENV, STICKER_KEY_ENV, load_settings
from connector.files import write_private
from connector.outcomes import ExitCode
from sandbox import running_sandbox

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SAMPLE_DROP = EXAMPLES / "drop"
NEXT_DROP = EXAMPLES / "drop-next"
DEMO_KEY = "sk_test_demo_0000000000000000"
DEMO_STICKER_KEY = "sk_test_demo_partner_00000000"

CONFIG_TEMPLATE = """\
# Written by `sticky-sync demo`: the bundled sandbox and sample data.
[state]
url = "sqlite:///./state.db"

[sticky]
base_url = "{base_url}"
rate_limit_per_second = 100

[sticker]
base_url = "{base_url}/sticker"

[[tenants]]
id = "kendalls"
name = "Kendall's Cannabis"
default_workspace = "ws_kendalls_online"
phone_region = "US"
timezone = "America/Los_Angeles"

[tenants.workspaces]
"001" = "ws_kendalls_downtown"
"002" = "ws_kendalls_eastside"

[[tenants.sources]]
kind = "csv"
name = "pos-export"
drop_dir = "./drop"
schedule = "every 5m"
stable_seconds = 0

[tenants.passes]
mint_on_create = true

[tenants.sticker]
internal_org_id = "kendalls"
organization_name = "Kendall's Cannabis"
organization_email = "billing@kendalls.example.com"
default_location = "001"

[tenants.sticker.billing_address]
line1 = "1420 Broadway"
city = "Oakland"
state = "CA"
zip = "94612"

[[tenants.sticker.users]]
internal_user_id = "kendalls-owner"
first_name = "Dana"
last_name = "Kendall"
email = "dana@kendalls.example.com"
phone = "(510) 555-0101"
"""


async def demo_command(workdir: Path, console: Console) -> ExitCode:
    if not SAMPLE_DROP.is_dir():
        console.print(Text(f"sample data not found at {SAMPLE_DROP}", style="red")
                      + Text(" (run from a checkout)"))
        return ExitCode.CONFIG_ERROR
    if workdir.exists():
        shutil.rmtree(workdir)
    shutil.copytree(SAMPLE_DROP, workdir / "drop")
    for env, key in ((API_KEY_ENV, DEMO_KEY), (STICKER_KEY_ENV, DEMO_STICKER_KEY)):
        if not os.environ.get(env, "").strip():
            os.environ[env] = key
    with running_sandbox() as sandbox:
        config_path = workdir / "config.toml"
        config_path.write_text(CONFIG_TEMPLATE.format(base_url=sandbox.base_url),
                               encoding="utf-8")
        settings = load_settings(config_path)
        console.rule(f"pass 1: {SAMPLE_DROP} → sandbox at {sandbox.base_url}")
        first = await run_command(settings, source=None, json_out=False, console=console)
        console.rule("pass 2: the same files again, and the next day's overlapping export")
        for csv_file in [*SAMPLE_DROP.glob("*.csv"), *NEXT_DROP.glob("*.csv")]:
            shutil.copy(csv_file, workdir / "drop" / csv_file.name)
        await run_command(settings, source=None, json_out=False, console=console)
        console.print("Identical files are recognised by their content hash and not read "
                      "again; in the overlapping export only new and changed rows are sent. "
                      "The store opened since (004) cannot be added to the existing Sticker "
                      "organization by the API: it is listed as needs-attention.")
        store = settings.state.open()
        try:
            links = export_rows(store, settings, tenant_id=None, include_all=False)
        finally:
            store.close()
        write_private(workdir / "pass-links.csv", csv_text(links))
        console.print(f"{len(links)} wallet pass install links (one per customer created, "
                      f"never two) are in {workdir}/pass-links.csv for the retailer's own "
                      "messaging tool; the connector messages nobody.")
    console.print(f"\nState DB, config and rejected-row reports are in {workdir}/ "
                  f"(see {workdir}/drop/rejected/).")
    console.print(
        f"\nEach pass above ended with an outcome and an exit code: 0 ok, 1 needs "
        f"attention (here {int(first)}: the sample has rows that are rejected "
        "or quarantined on purpose), 2 configuration, 3 busy, 4 failed. The demo itself "
        "succeeded (exit 0). Next, try:\n"
        f"  .venv/bin/sticky-sync status --config {workdir}/config.toml\n"
        f"  .venv/bin/sticky-sync runs list --config {workdir}/config.toml\n"
        f"  .venv/bin/sticky-sync dlq list --config {workdir}/config.toml")
    return ExitCode.OK
