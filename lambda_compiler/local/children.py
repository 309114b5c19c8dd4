"""The local stack's child processes: the moto server and each fan-out queue worker.

In one process (one GIL), the stream handler's compile of a small change waited on the
queue workers' compiles and on moto serving them; each now runs in a Python of its own,
and the stack's process runs only the stream worker and the dags mirror.

A child is ``python -m lambda_compiler.local.children ROLE ...`` (a fresh interpreter: never
a fork of a process with threads), in a session of its own, so Ctrl-C in the terminal reaches
only `dynadag local`, which stops it. Its stdin is a pipe from the parent: it stops when that
pipe closes, which the parent does to stop it and the kernel does when the parent dies (even
by SIGKILL). It tells the parent what happens in lines on stdout: ``ready [ENDPOINT]``,
``handled N`` (work messages), ``error TYPE: MESSAGE``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

MODULE = "lambda_compiler.local.children"
MOTO = "moto"
QUEUE_WORKER = "queue-worker"
PRUNE_INTERVAL = 1.0  # seconds between prunings of moto's shard iterators
GRACE_SECONDS = 20.0  # a child whose parent is gone exits by then, even mid-message
READY_TIMEOUT = 60.0  # seconds a child has to say ``ready`` (moto takes ~2 s, a worker ~1 s)
QUEUE_WORKER_NICENESS = 10
"""Added to a queue worker's niceness. On Lambda the stream function and the fan-out workers
run in containers of their own; locally they share the machine's cores with moto, so the
workers yield to the stream worker and to moto: a fan-out of thousands of DAGs does not hold
up an unrelated change."""


class ChildError(RuntimeError):
    """What a child reported, or that it exited on its own; the message says which."""


class Child:
    """One child process; `ready()` waits until it serves, then `on_line` gets every line
    it prints."""

    def __init__(
        self, role: str, *args: str, on_line: Callable[[str], None] = lambda line: None
    ) -> None:
        package_root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
        self.role = role
        self._on_line = on_line
        self._stopping = False
        self._reader: threading.Thread | None = None
        self.process = subprocess.Popen(
            [sys.executable, "-m", MODULE, role, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
            env={**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"},
        )

    def ready(self, timeout: float | None = None) -> list[str]:
        """Wait for its ``ready`` line (at most `timeout` seconds, by default
        `READY_TIMEOUT`); what followed ``ready`` on it."""
        stdout = self.process.stdout
        assert stdout is not None
        timeout = READY_TIMEOUT if timeout is None else timeout
        lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True)
        reader.start()
        try:
            first = lines.get(timeout=timeout).split()
        except queue.Empty:
            self.process.kill()  # it hangs: nothing to wait for
            reader.join(10)  # its pipe is closed now
            self.stop()
            raise ChildError(
                f"the {self.role} process did not start within {timeout:g} s; it was stopped"
            ) from None
        if first[:1] != ["ready"]:
            self.stop()
            raise ChildError(
                f"the {self.role} process did not start (exit code {self.process.poll()})"
            )
        self._reader = threading.Thread(target=self._read, name=f"dynadag-{self.role}")
        self._reader.daemon = True
        self._reader.start()
        return first[1:]

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                self._on_line(line.rstrip("\n"))
        code = self.process.wait()
        if not self._stopping:
            self._on_line(f"error the process exited with code {code}")

    def close(self) -> None:
        """Ask it to stop (it finishes the message in hand); see `stop`."""
        self._stopping = True
        assert self.process.stdin is not None
        with contextlib.suppress(OSError):
            self.process.stdin.close()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask it to stop and wait for it; kill it if it does not stop in time."""
        self.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        if self._reader is not None:
            self._reader.join(10)
        elif self.process.stdout is not None:
            self.process.stdout.close()


def start_moto(host: str, port: int) -> tuple[Child, str]:
    """A moto server in a child process on `host:port` (0: any free port), and its URL."""
    server = Child(MOTO, host, str(port))
    return server, server.ready()[0]


def lambda_logs_to(path: Path) -> TextIO:
    """Send the Lambda functions' JSON logs (Powertools' ``dynadag`` logger) to `path`."""
    from lambda_compiler.handler import logger

    path.parent.mkdir(parents=True, exist_ok=True)
    log = path.open("a", encoding="utf-8")
    for handler in logging.getLogger(logger.service).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(log)
    return log


# --- in the child -----------------------------------------------------------------------


def _say(line: str, stop: threading.Event) -> None:
    """One line to the parent; if it is gone, stop (and keep quiet)."""
    try:
        print(line.replace("\n", " "), flush=True)
    except OSError:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), sys.stdout.fileno())
        stop.set()


def _until_the_parent_closes(stop: threading.Event) -> None:
    sys.stdin.buffer.read()  # returns at end of file: the parent closed the pipe, or died
    stop.set()
    time.sleep(GRACE_SECONDS)
    os._exit(1)  # still here: the message in hand is stuck (e.g. its moto is gone)


def _serve_moto(stop: threading.Event, host: str, port: str) -> None:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(host, int(port), verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    _say(f"ready http://{bound_host}:{bound_port}", stop)
    while not stop.wait(PRUNE_INTERVAL):
        _forget_old_shard_iterators()
    server.stop()


def _forget_old_shard_iterators(keep: int = 1000) -> None:
    """Moto keeps every shard iterator it ever handed out; polling would grow that forever."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    for account in dynamodbstreams_backends.values():
        for backend in account.values():
            iterators = backend.shard_iterators
            for arn in list(iterators)[:-keep]:
                iterators.pop(arn, None)


def _work(stop: threading.Event, queue_url: str, poll_interval: str, log: str) -> None:
    """A queue worker: the fan-out worker handler on the work queue's messages."""
    import boto3
    from botocore.config import Config

    from lambda_compiler.fanout_worker import handler
    from lambda_compiler.local.queues import QueueWorker

    os.nice(QUEUE_WORKER_NICENESS)
    lambda_logs_to(Path(log))
    sqs = boto3.client("sqs", config=Config(retries={"mode": "standard", "max_attempts": 3}))
    worker = QueueWorker(sqs, queue_url, handler)
    _say("ready", stop)
    while not stop.is_set():
        try:
            handled = worker.poll_once()
        except Exception as exc:  # e.g. a moto hiccup; report it and keep polling
            _say(f"error {type(exc).__name__}: {exc}", stop)
            handled = 0
        if handled:
            _say(f"handled {handled}", stop)
        else:
            stop.wait(float(poll_interval))


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it
    stop = threading.Event()
    threading.Thread(target=_until_the_parent_closes, args=(stop,), daemon=True).start()
    role, *args = argv
    roles: dict[str, Callable[..., None]] = {MOTO: _serve_moto, QUEUE_WORKER: _work}
    roles[role](stop, *args)


if __name__ == "__main__":
    main(sys.argv[1:])
