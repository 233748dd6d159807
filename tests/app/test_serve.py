"""`wholecare serve` runs the app under gunicorn and serves the NHS.UK assets itself (no CDN)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
        return response.status, dict(response.headers), response.read()


@pytest.fixture
def server(tmp_path: Path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "WHOLECARE_VAR_DIR": str(tmp_path),
    }
    cli = [sys.executable, "-m", "wholecare.cli"]
    subprocess.run([*cli, "migrate", "--verbosity", "0"], env=env, check=True)
    port = _free_port()
    process = subprocess.Popen(
        [*cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            _get(f"{base}/health/")
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"server did not start: {process.communicate()[0]}")
    yield base
    process.terminate()
    process.wait(timeout=10)


def test_serves_pages_and_local_assets(server: str) -> None:
    status, headers, body = _get(f"{server}/sign-in/")
    assert status == 200
    assert "gunicorn" in headers.get("Server", "")
    page = body.decode()
    assert "Sign in to Wholecare" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page
    status, headers, css = _get(f"{server}/static/vendor/nhsuk/nhsuk-frontend.min.css")
    assert status == 200
    assert b".nhsuk-header" in css
    assert b"https://" not in css


def test_refuses_a_bad_port() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "wholecare.cli", "serve", "--port", "70000"],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "--port 70000 is not a TCP port" in result.stderr
