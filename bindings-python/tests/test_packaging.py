"""The wheel installs into a fresh virtualenv and works there; the example runs and type-checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from async_handover import handover
from conftest import ROOT

EXAMPLE = ROOT / "examples" / "python" / "scheduled_job.py"


def test_wheel_installs_into_a_fresh_venv(tmp_path: Path) -> None:
    wheel = os.environ.get("ELECT_WHEEL")
    if not wheel:
        pytest.skip("ELECT_WHEEL is not set (tests/run.d/40-python sets it)")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-index", wheel], check=True, timeout=300)
    script = (
        "import elect, sys\n"
        "with elect.Election(sys.argv[1], 'smoke', ttl=2.0) as e:\n"
        "    e.start()\n"
        "    assert e.wait_leader(15.0)\n"
        "    print('token', e.fencing_token, elect.__file__)\n"
    )
    out = subprocess.run([str(python), "-c", script, f"file://{tmp_path}/store"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("token 1 ") and str(venv) in out.stdout


def test_example_runs_the_job_on_the_leader_only(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    uri = f"file://{tmp_path}/store"
    procs = [subprocess.Popen([sys.executable, str(EXAMPLE), uri, "--every", "0.2", "--runs", "5",
                               "--out", str(report)], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=60)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    lines = [line.split(" ") for line in report.read_text().splitlines()]
    # The first leader runs all its ticks while the other skips; when it exits, the other may
    # take over for its last ticks, with a larger token. Never both at once.
    tokens = [int(words[0]) for words in lines]
    assert len(lines) >= 5 and tokens == sorted(tokens), lines
    assert len({(words[0], words[-1]) for words in lines}) == len(set(tokens)), "a token per leader"
    assert sum("skipped" in o for o in outs) >= 1


def test_async_example_hands_the_job_over_on_revoked(tmp_path: Path) -> None:
    handover(sys.executable, f"file://{tmp_path}/store")


def test_examples_pass_mypy_strict() -> None:
    out = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir=/dev/null", str(EXAMPLE.parent)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr


def test_native_stubs_match_the_module() -> None:
    out = subprocess.run([sys.executable, "-m", "mypy.stubtest", "--mypy-config-file=/dev/null", "elect._native"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT / "target")
    assert out.returncode == 0, out.stdout + out.stderr
