"""The local stack: a moto server, the template's resources, a stream worker and a dags mirror.

moto serves on 127.0.0.1 in a child process; `queue_workers` child processes consume the
fan-out's work queue with the real worker handler (the deploy-time rebuild at start and
large stream changes go through it; see `children`). This process runs only the stream
worker thread, which polls the tables' streams and calls the real Lambda handler, and the
mirror, which copies the dags prefix into a local Airflow dags folder. Any AWS CLI or boto3
call with the endpoint URL works against it.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.config import Config

from lambda_compiler.local.children import (
    QUEUE_WORKER,
    Child,
    ChildError,
    lambda_logs_to,
    start_moto,
)
from lambda_compiler.local.mirror import DagsMirror
from lambda_compiler.local.provision import provision
from lambda_compiler.local.queues import local_queues
from lambda_compiler.local.report import ChangeLine, ChangeReport
from lambda_compiler.local.resources import DEFAULT_TEMPLATE, StackResources, read_resources
from lambda_compiler.local.streams import Handler, Invocation, StreamWorker
from lambda_compiler.rows import JOB_KEY, SCHEDULER_KEY, TASK_KEY
from lambda_compiler.rows_file import put_rows, read_rows_file
from lambda_compiler.settings import Settings
from lambda_compiler.snapshot import TableNames

# Any value works against moto; real credentials never reach the local endpoint.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
# Lambda's own settings, locally: no X-Ray daemon, no EMF lines on the console.
LAMBDA_ENVIRONMENT = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "dynadag",
}
MIRROR_INTERVAL = 1.0  # seconds between mirror syncs when no record arrived (catches rollbacks)


class PortInUseError(OSError):
    """The port is taken; the message names it."""


@dataclass(frozen=True)
class LocalConfig:
    """Where the local stack listens, what it creates and where it mirrors DAGs."""

    host: str = "127.0.0.1"
    port: int = 5000
    template: Path = DEFAULT_TEMPLATE
    bucket: str | None = None  # default: the template's bucket name
    dags_folder: Path = Path(".dynadag/dags")
    region: str = "us-east-1"
    batch_size: int = 100
    poll_interval: float = 0.05
    queue_workers: int = 2  # processes consuming the fan-out work queue (Lambda's concurrency)

    def environment(self, endpoint: str, settings: Settings) -> dict[str, str]:
        """The variables the handler and any child process need to use this stack."""
        tables = settings.tables
        return {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            **LOCAL_CREDENTIALS,
            "DYNADAG_BUCKET": settings.bucket,
            "DYNADAG_DAGS_PREFIX": settings.dags_prefix,
            "DYNADAG_TASK_TABLE": tables.task,
            "DYNADAG_JOB_TABLE": tables.job,
            "DYNADAG_SCHEDULER_TABLE": tables.scheduler,
            "DYNADAG_JOB_ID_INDEX": settings.job_id_index or "",
            "DYNADAG_REGISTRY_TABLE": settings.registry_table,
            "DYNADAG_RUN_HISTORY_TABLE": settings.run_history_table,
            "DYNADAG_WORK_QUEUE_URL": settings.fanout.queue_url or "",
        }


def stack_settings(resources: StackResources, bucket: str, prefix: str = "dags/") -> Settings:
    """The handler's settings for tables named as in the template."""
    task, job, scheduler = resources.source_tables
    indexes = [i["IndexName"] for i in job.global_secondary_indexes]
    return Settings(
        bucket=bucket,
        tables=TableNames(task=task.name, job=job.name, scheduler=scheduler.name),
        job_id_index=indexes[0] if indexes else None,
        registry_table=resources.tables["RegistryTable"].name,
        run_history_table=resources.tables["RunHistoryTable"].name,
        dags_prefix=prefix,
    )


def check_port_free(host: str, port: int) -> None:
    """Raise `PortInUseError` when `host:port` cannot be bound."""
    if port == 0:
        return
    with socket.socket() as probe:
        # as the server will: a port left in TIME_WAIT by a stopped server is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise PortInUseError(f"{host}:{port} is already in use; choose --port") from None


@dataclass
class LocalStack:
    """Start with `start()`, stop with `stop()`.

    `on_change` receives one `ChangeLine` per stream record the handler processed;
    `on_error` any failure of the worker or the mirror (they keep running).
    """

    config: LocalConfig
    on_change: Callable[[ChangeLine], None] = lambda line: None
    on_error: Callable[[str, BaseException], None] = lambda what, exc: None
    resources: StackResources = field(init=False)
    settings: Settings = field(init=False)
    endpoint: str = field(init=False, default="")
    _server: Child | None = field(init=False, default=None)
    _queue_workers: list[Child] = field(init=False, default_factory=list)
    _threads: list[threading.Thread] = field(init=False, default_factory=list)
    _mirror_due: threading.Event = field(init=False, default_factory=threading.Event)
    _stop: threading.Event = field(init=False, default_factory=threading.Event)
    _lines: ChangeReport | None = field(init=False, default=None)
    _log_file: TextIO | None = field(init=False, default=None)

    def start(self) -> None:
        """Serve, create the resources, point this process at them, and start the workers."""
        self.resources = read_resources(self.config.template)
        bucket = self.config.bucket or self.resources.bucket.name or "dynadag-local"
        self.settings = stack_settings(self.resources, bucket, self.resources.dags_prefix)
        check_port_free(self.config.host, self.config.port)
        self._server, self.endpoint = start_moto(self.config.host, self.config.port)
        for name in ("AWS_PROFILE", "DYNADAG_ALERT_TOPIC_ARN"):  # no profile, no SNS locally
            os.environ.pop(name, None)
        os.environ.update(self.config.environment(self.endpoint, self.settings))
        os.environ.update(LAMBDA_ENVIRONMENT)
        # As the handler reads them, with the compiler opt-ins (DYNADAG_ALLOW_BASH...) kept.
        self.settings = Settings.from_env()
        sqs = self.client("sqs")
        provision(self.resources, self.client("dynamodb"), self.client("s3"), bucket, sqs)
        queues = local_queues(sqs, self.resources)
        os.environ["DYNADAG_WORK_QUEUE_URL"] = queues.work_url
        self.settings = Settings.from_env()
        self._log_file = lambda_logs_to(self.handler_log)  # before the rebuild logs anything
        self._queue_workers = [
            Child(
                QUEUE_WORKER,
                queues.work_url,
                str(self.config.poll_interval * 2),
                str(self.handler_log),
                on_line=self._queue_worker_said,
            )
            for _ in range(self.config.queue_workers)
        ]
        for child in self._queue_workers:  # started together, waited for in turn
            child.ready()
        # As on deploy: upload dags_runtime/ and .airflowignore, build every DAG (the fan-out).
        self._rebuild()
        worker = StreamWorker(
            self.client("dynamodb"),
            self.client("dynamodbstreams"),
            [table.name for table in self.resources.source_tables],
            self._handler(),
            region=self.config.region,
            batch_size=self.config.batch_size,
            on_invocation=self._report,
        )
        mirror = DagsMirror(
            self.client("s3"), bucket, self.settings.dags_prefix, self.config.dags_folder
        )
        mirror.sync()
        more = [
            threading.Thread(target=self._poll, args=(worker,), name="dynadag-streams"),
            threading.Thread(target=self._mirror, args=(mirror,), name="dynadag-mirror"),
        ]
        for thread in more:
            thread.daemon = True
            thread.start()
        self._threads = more

    def _rebuild(self, timeout: float = 900.0) -> None:
        """The deploy-time rebuild: queued as the deploy hook does, built by the queue
        workers; returns when its run has ended."""
        import time

        from lambda_compiler.deploy_hook import start_rebuild
        from lambda_compiler.fanout import Runs

        run = start_rebuild(self.settings, None)
        runs = Runs(self.client("dynamodb"), self.settings.registry_table)
        deadline = time.monotonic() + timeout
        while not run.finished and time.monotonic() < deadline and not self._stop.is_set():
            time.sleep(0.1)
            run = runs.get(run.run_id) or run

    def _queue_worker_said(self, line: str) -> None:
        """A queue worker's line: wake the mirror after built messages; report errors."""
        what, _, rest = line.partition(" ")
        if what == "handled":
            self._mirror_due.set()
        elif what == "error" and not self._stop.is_set():
            self.on_error("queue worker", ChildError(rest))

    @property
    def queue_worker_pids(self) -> list[int]:
        """The process ids of the queue workers."""
        return [worker.pid for worker in self._queue_workers]

    def _handler(self) -> Handler:
        """The real Lambda handler (its JSON logs go to `handler_log`; `_report` prints what
        it returns)."""
        from lambda_compiler.handler import lambda_handler

        tables = self.settings.tables
        self._lines = ChangeReport(
            {tables.task: TASK_KEY, tables.job: JOB_KEY, tables.scheduler: SCHEDULER_KEY}
        )
        return lambda_handler

    def _report(self, invocation: Invocation) -> None:
        if invocation.error:
            self.on_error("handler", RuntimeError(invocation.error))
        assert self._lines is not None
        for line in self._lines.lines(invocation):
            self.on_change(line)

    def client(self, service: str) -> Any:
        """A boto3 client for this stack."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.config.region,
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
        )

    def seed(self, path: Path) -> int:
        """Put every row of the rows file(s) at `path`; returns how many rows."""
        dynamodb = self.client("dynamodb")
        return put_rows(dynamodb, read_rows_file(path), self.settings.tables)

    @property
    def handler_log(self) -> Path:
        """Where the handler's JSON logs go: `lambda.log` beside the dags folder."""
        return self.config.dags_folder.parent / "lambda.log"

    def client_environment(self) -> dict[str, str]:
        """What another shell exports to use this stack with the AWS CLI, boto3 or dynadag."""
        env = self.config.environment(self.endpoint, self.settings)
        names = [
            "AWS_ENDPOINT_URL",
            "AWS_REGION",  # the AWS CLI reads this one,
            "AWS_DEFAULT_REGION",  # boto3 this one
            *LOCAL_CREDENTIALS,
            "DYNADAG_BUCKET",
            "DYNADAG_WORK_QUEUE_URL",
        ]
        if self.settings.dags_prefix != "dags/":
            names.append("DYNADAG_DAGS_PREFIX")
        return {name: env[name] for name in names}

    def request_stop(self) -> None:
        """Ask `wait()` to return (safe from a signal handler)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether a stop was requested."""
        return self._stop.is_set()

    def wait(self) -> None:
        """Block until `stop()` is called (e.g. from a signal handler)."""
        while not self._stop.wait(0.5):
            pass

    def stop(self) -> None:
        """Stop the workers, then the server; safe to call more than once."""
        self._stop.set()
        self._mirror_due.set()
        for worker in self._queue_workers:
            worker.close()  # all at once: each finishes the message in hand
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads = []
        for worker in self._queue_workers:
            worker.stop()
        self._queue_workers = []
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def _poll(self, worker: StreamWorker) -> None:
        """The worker thread: poll the streams; wake the mirror after every delivery."""
        while not self._stop.is_set():
            try:
                delivered = worker.poll_once(self._stop)
            except Exception as exc:  # e.g. a moto hiccup; report it and keep polling
                self.on_error("stream worker", exc)
                delivered = 0
            if delivered:
                self._mirror_due.set()
            else:
                self._stop.wait(self.config.poll_interval)

    def _mirror(self, mirror: DagsMirror) -> None:
        """The mirror thread: sync after deliveries, and every second (e.g. after rollbacks)."""
        while not self._stop.is_set():
            self._mirror_due.wait(MIRROR_INTERVAL)
            self._mirror_due.clear()
            try:
                mirror.sync()
            except Exception as exc:  # the mirror must not stop anything else
                self.on_error("dags mirror", exc)
