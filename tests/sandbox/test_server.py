from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

import sandbox as sandbox_pkg
from sandbox import Faults, SandboxConfig, create_app, running_sandbox
from sandbox.__main__ import build_parser, config_from_args
from sandbox.app import get_state
from sandbox.testing import sticker_client, sticky_client
from tests.sandbox.conftest import WS_A

REPO = Path(__file__).resolve().parents[2]


def test_public_api() -> None:
    assert set(sandbox_pkg.__all__) == {
        "create_app",
        "SandboxConfig",
        "Faults",
        "serve",
        "running_sandbox",
        "RunningSandbox",
    }


def test_running_sandbox_binds_a_real_port_and_shuts_down() -> None:
    with running_sandbox() as first, running_sandbox() as second:
        assert first.port != 0 and first.port != second.port
        assert first.base_url == f"http://127.0.0.1:{first.port}"
        with sticky_client(first, WS_A) as client:
            assert client.post("/v1/customers", json={"phone": "+13035551234"}).status_code == 201
        assert len(first.state.sticky_store.workspace(WS_A).customers) == 1
        assert second.state.sticky_store.workspaces() == []  # independent instances
        assert first.config == SandboxConfig()
        port = first.port
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(f"http://127.0.0.1:{port}/_sandbox/health")


def test_create_app_state() -> None:
    config = SandboxConfig(rate_limit=5, faults=Faults(latency_ms=1))
    state = get_state(create_app(config))
    assert state.config is config
    assert state.faults.current.latency_ms == 1


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="rate_limit"):
        SandboxConfig(rate_limit=0)
    with pytest.raises(ValueError, match="sticker_rate_limit"):
        SandboxConfig(sticker_rate_limit=0)


def test_sticker_cli_arguments() -> None:
    args = build_parser().parse_args(
        [
            "--sticker-api-key",
            "sk_live_a",
            "--sticker-api-key",
            "sk_test_b",
            "--sticker-rate-limit",
            "4",
            "--setup-error-rate",
            "0.2",
            "--setup-error-next",
            "2",
            "--setup-error-mode",
            "after",
        ]
    )
    config = config_from_args(args)
    assert config.sticker_api_keys == frozenset({"sk_live_a", "sk_test_b"})
    assert config.api_keys is None
    assert config.sticker_rate_limit == 4
    assert config.faults == Faults(
        setup_error_rate=0.2, setup_error_next=2, setup_error_mode="after"
    )
    defaults = config_from_args(build_parser().parse_args([]))
    assert (defaults.sticker_api_keys, defaults.sticker_rate_limit) == (None, 10)
    disabled = config_from_args(build_parser().parse_args(["--no-sticker-rate-limit"]))
    assert disabled.sticker_rate_limit is None


def test_cli_arguments_build_a_config() -> None:
    args = build_parser().parse_args(
        [
            "--port",
            "9000",
            "--api-key",
            "sk_test_a",
            "--api-key",
            "sk_test_b",
            "--latency-ms",
            "20",
            "--error-rate",
            "0.1",
            "--drop-rate",
            "0.05",
            "--drop-mode",
            "after",
            "--storm-workspace",
            "ws_x",
            "--ignore-idempotency",
            "--seed",
            "4",
        ]
    )
    config = config_from_args(args)
    assert (args.host, args.port) == ("127.0.0.1", 9000)
    assert config.api_keys == frozenset({"sk_test_a", "sk_test_b"})
    assert config.rate_limit == 100
    assert config.faults == Faults(
        latency_ms=20,
        error_rate=0.1,
        drop_rate=0.05,
        drop_mode="after",
        storm_workspace="ws_x",
        ignore_idempotency=True,
        seed=4,
    )
    assert config_from_args(build_parser().parse_args(["--no-rate-limit"])).rate_limit is None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_python_dash_m_sandbox_serves() -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--rate-limit", "3"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx2.get(f"{url}/_sandbox/health")
                break
            except httpx2.TransportError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "sandbox did not start"
                time.sleep(0.05)
        with sticky_client(url, WS_A) as client:
            httpx2.post(f"{url}/_sandbox/faults", json={"drop_rate": 1.0})
            with pytest.raises(httpx2.TransportError):
                client.post("/v1/customers", json={"phone": "+13035551234"})
            httpx2.post(f"{url}/_sandbox/faults", json={"drop_rate": 0.0})
            statuses = [client.get("/v1/customers").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]  # the dropped request counted too
        with sticker_client(url) as sticker:
            response = sticker.post(
                "/v1/organizations/setup",
                json={
                    "internalOrgId": "o",
                    "organizationName": "O",
                    "internalUserId": "u",
                    "user": {"firstName": "A", "lastName": "B", "email": "a@example.com"},
                },
            )
            assert response.status_code == 200, response.text
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert b"Traceback" not in stderr
    assert b"ASGI callable" not in stderr  # deliberate drops are not logged as errors
