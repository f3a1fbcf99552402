"""Running the emulator as a subprocess on a state directory (and, once started, a port)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .control import EmulatorControl, trust

PROJECT_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class EmulatorAt:
    """An emulator already running somewhere (`make run`'s, or one a bench was pointed at):
    what the flow helpers need of it."""

    base_url: str
    ca_path: str | Path

    def http(self, **kwargs: Any) -> httpx.Client:
        """An httpx client that trusts the emulator's CA (the caller closes it)."""
        return httpx.Client(
            base_url=self.base_url,
            verify=trust(self.ca_path),
            trust_env=False,
            timeout=kwargs.pop("timeout", 30.0),
            **kwargs,
        )


class RunningEmulator:
    """An emulator subprocess on a fixed state directory (and, after start, a fixed port)."""

    def __init__(
        self,
        state_dir: Path,
        port: int = 0,
        tenants_file: Path | None = None,
        startup_timeout: float = 30.0,
        durations: dict[str, float] | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.durations = dict(durations or {})
        self.port = port
        self.tenants_file = tenants_file
        self.startup_timeout = startup_timeout
        self.base_url = ""
        self.ca_path = ""
        self.control: EmulatorControl | None = None
        self._process: subprocess.Popen | None = None
        self.log_path = state_dir / "emulator.log"

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "m365.emulator",
            "--port",
            str(self.port),
            "--state-dir",
            str(self.state_dir),
        ]
        if self.tenants_file:
            command += ["--tenants-file", str(self.tenants_file)]
        for name, seconds in self.durations.items():
            command += ["--duration", f"{name}={seconds}"]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
            "PYTHONUNBUFFERED": "1",
        }
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_bytes()[offset:].decode(errors="replace")
            ca = re.search(r"^CA file: (.+)$", text, re.M)
            base = re.search(r"^Base URL: (\S+)$", text, re.M)
            if ca and base:
                self.ca_path, self.base_url = ca.group(1).strip(), base.group(1).strip()
                self.port = int(self.base_url.rsplit(":", 1)[1])
                self.control = EmulatorControl(self.base_url, self.ca_path)
                self._wait_healthy(deadline)
                return
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the emulator did not start; log:\n{self.log_tail()}")

    def _wait_healthy(self, deadline: float) -> None:
        while True:
            try:
                self.control.health()
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.control is not None:
            self.control.close()
            self.control = None
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def http(self, **kwargs: Any) -> httpx.Client:
        """An httpx client that trusts the emulator's CA (the caller closes it)."""
        return EmulatorAt(self.base_url, self.ca_path).http(**kwargs)


@contextmanager
def run_emulator(
    state_dir: str | Path | None = None,
    port: int = 0,
    *,
    tenants_file: str | Path | None = None,
    durations: dict[str, float] | None = None,
) -> Iterator[RunningEmulator]:
    """Start the emulator as a subprocess, wait until it answers, stop it on exit.

    `durations` overrides simulated durations (world.Durations field names, in seconds)."""
    temporary = tempfile.TemporaryDirectory(prefix="m365-emulator-") if state_dir is None else None
    directory = Path(temporary.name if temporary else state_dir)
    emulator = RunningEmulator(
        directory, port, Path(tenants_file) if tenants_file else None, durations=durations
    )
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()
        if temporary is not None:
            temporary.cleanup()
