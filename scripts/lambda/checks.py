"""What the Docker-based checks share (``scripts/lambda/sam_local_invoke.py``, ``tests/engines.py``):
finding a Docker engine, running commands with a bound, and reporting named steps.

A step is a function that raises ``Failure`` (through ``check``) with what was wrong; ``Steps``
runs them in order, prints ``ok``/``FAIL`` per step, stops at the first failure (later steps
build on earlier ones), and gives the exit status.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from typing import Callable

ELF_MACHINES = {0x3E: "x86_64", 0xB7: "arm64"}


class Failure(Exception):
    """A check that did not hold; the message says what was expected and what was found."""


def check(cond: bool, what: str) -> None:
    if not cond:
        raise Failure(what)


def docker_problem() -> str | None:
    """Why no Docker engine can be used, or None."""
    if shutil.which("docker") is None:
        return "the docker client is not installed"
    try:
        out = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30s"
    if out.returncode != 0 or not out.stdout.strip():
        return f"no Docker engine answers (`docker info`: {(out.stderr or out.stdout).strip()[:300]})"
    return None


def elf_arch(path: str) -> str:
    with open(path, "rb") as f:
        head = f.read(20)
    if head[:4] != b"\x7fELF":
        raise SystemExit(f"{path} is not an ELF binary")
    return ELF_MACHINES.get(int.from_bytes(head[18:20], "little"), f"machine {head[18:20].hex()}")


def run(cmd: list[str], env: dict[str, str] | None, timeout: float, cwd: str | None = None) -> subprocess.CompletedProcess:
    """Runs `cmd` with a bound; a timeout ends the whole check with both outputs."""
    try:
        return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise SystemExit(
            f"timed out after {timeout:.0f}s: {' '.join(cmd)}\n--- stdout ---\n{e.stdout}\n--- stderr ---\n{e.stderr}"
        )


class Steps:
    """Named steps, run in order until one fails; `timings` keeps each one's duration."""

    def __init__(self, name: str):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.timings: list[tuple[str, float]] = []

    def run(self, title: str, fn: Callable[[], None]) -> bool:
        if self.failed:
            print(f"skip {title} (an earlier step failed)", flush=True)
            return False
        started = time.monotonic()
        try:
            fn()
        except Failure as e:
            self.failed += 1
            print(f"FAIL {title}: {e}", flush=True)
            return False
        finally:
            self.timings.append((title, time.monotonic() - started))
        self.passed += 1
        print(f"ok   {title} ({self.timings[-1][1]:.1f}s)", flush=True)
        return True

    def report(self, expected: int) -> int:
        """Prints the summary; 0 when every one of `expected` steps passed."""
        print(f"{self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 and self.passed == expected else 1


def log(prefix: str, msg: str) -> None:
    print(f"[{prefix}] {msg}", file=sys.stderr, flush=True)
