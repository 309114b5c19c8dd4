"""`dynadag local` as a child process, driven as a user would: for the demo, tests, benchmarks."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import boto3

DYNADAG = str(Path(sys.executable).parent / "dynadag")
READY = re.compile(r"dynadag local is ready: (\S+)")
EXPORTS = re.compile(r"^\s*export (AWS_ENDPOINT_URL=.*)$")


class LocalProcessError(RuntimeError):
    """The child exited, or a line did not come in time; the message says which."""


class LocalProcess:
    """Starts `dynadag local --port 0 [options]` in `workdir` and waits until it is ready.

    Every printed line is kept in `seen` (and passed to `echo`, if given); `env` holds
    the variables the child printed for other shells (endpoint, region, bucket...).
    `dynadag` and `environ` choose another installation (default: this interpreter's,
    with this process's environment).
    """

    def __init__(
        self,
        workdir: Path,
        *,
        seed: Path | None = None,
        options: tuple[str, ...] = (),
        timeout: float = 90.0,
        echo: Callable[[str], None] | None = None,
        dynadag: str = DYNADAG,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        args = [dynadag, "local", "--port", "0", "--dags-folder", str(workdir / "dags")]
        if seed is not None:
            args += ["--seed", str(seed)]
        args += options
        self.dags_folder = workdir / "dags"
        self.seen: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._echo = echo
        self.process = subprocess.Popen(
            args,
            cwd=workdir,
            env={
                **(os.environ if environ is None else environ),
                "PYTHONUNBUFFERED": "1",
                "COLUMNS": "250",
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        try:
            ready = self.wait_for_line(READY.pattern, timeout=timeout)
        except LocalProcessError:
            self.stop()
            raise
        match = READY.search(ready)
        assert match is not None  # `ready` is the line READY matched
        self.endpoint = match[1]
        exports = next(m[1] for line in self.seen if (m := EXPORTS.match(line)))
        self.env: dict[str, str] = dict(re.findall(r"(\w+)=(\S+)", exports))

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            line = line.rstrip("\n")
            if self._echo is not None:
                self._echo(line)
            self._lines.put(line)

    def mark(self) -> int:
        """The number of lines printed so far: pass it as `after` to wait for newer ones."""
        with contextlib.suppress(queue.Empty):
            while True:
                self.seen.append(self._lines.get_nowait())
        return len(self.seen)

    def wait_for_line(self, pattern: str, *, after: int = 0, timeout: float = 30.0) -> str:
        """The first line printed after line number `after` that matches `pattern`."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            for line in self.seen[after:]:
                if regex.search(line):
                    return line
            if time.monotonic() > deadline:
                raise LocalProcessError(
                    f"no line matching {pattern!r} within {timeout:.0f} s; printed so far:\n"
                    + "\n".join(self.seen)
                )
            try:
                self.seen.append(self._lines.get(timeout=0.2))
            except queue.Empty:
                if self.process.poll() is not None:
                    raise LocalProcessError(
                        f"dynadag local exited with code {self.process.returncode}:\n"
                        + "\n".join(self.seen)
                    ) from None

    def client(self, service: str) -> Any:
        """A boto3 client for the child's endpoint, with the credentials it printed."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.env["AWS_REGION"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int:
        """Stop it as a user would (Ctrl-C); kill it only if it does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode
