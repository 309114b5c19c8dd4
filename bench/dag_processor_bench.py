"""What Airflow's dag processor spends on a folder of generated DAGs, per release and size.

    PYTHONPATH=$PWD nice -n 10 .venv/bin/python -m bench.dag_processor_bench \\
        --dags 1000 --dags 4000 --release 3.3.2 --release 2.11.0 \\
        --processor-max-dags 1000 --airflow2-processor-dags 55 --window-wait 35

Rows come from `bench/synthetic.py` (jobs of 20 `REDSHIFT-SQL` tasks, one scheduler per ten
jobs), compiled for each release's target into a dags folder laid out as dynadag publishes it
(`dags_runtime/` beside the DAGs, kept out by `.airflowignore`). `--compile-dags` DAGs are
compiled once per release; a smaller folder is a subset of them (the first jobs and the
schedulers that trigger only them), a larger one repeats them under new DAG ids (a file's
parse cost does not depend on its names). For each release (`.venv-airflow/RELEASE`):

(a) a full `DagBag` fill of each folder in a fresh interpreter: wall, CPU per file, RSS growth;
(b) up to `--processor-max-dags` DAGs, the real dag processor (`airflow dag-processor`, SQLite,
    the recommended settings, 2 parsing processes) under `nice`; Airflow 2 refuses a standalone
    processor on SQLite, so there its scheduler runs the same manager on one parsing process,
    in lock-step with the scheduler loop (its wall times are not meaningful; only its CPU is),
    on `--airflow2-processor-dags` files. With `--postgres` every release runs a standalone
    `airflow dag-processor` on a throwaway PostgreSQL cluster (MWAA's metadata database is
    PostgreSQL), started by the benchmark and removed at its end (`initdb`, `pg_ctl` and `psql`
    on the PATH; `psycopg2-binary`, and on 3.x `asyncpg`, in the release's venv); the server's
    CPU is reported apart from the processor's. In each case: the first pass (every file parsed
    and serialized), the time until a changed file's new DAG is serialized, the idle loop's
    CPU, then a restart on the same database, which re-parses every unchanged file (the
    steady-state pass).

Printed ratios, both sides measured in the same run: processor CPU per file / DagBag CPU per
file (what a process per file and the database add), steady-state pass / first pass, per-file
DagBag cost at each size / at the smallest, and each release / the first one. Absolute
figures depend on the machine and its load and are informative only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil

from bench.synthetic import synthetic_rows
from lambda_compiler.airflowignore import merge_airflowignore
from lambda_compiler.compiler import compile_dags
from lambda_compiler.config import CompilerConfig
from lambda_compiler.rebuild import default_runtime_dir
from lambda_compiler.snapshot import snapshot_from_json
from lambda_compiler.targets import target_for

_NUMBERED = re.compile(r"\b(pipeline|schedule)_(\d{3,4})\b")
ROOT = Path(__file__).resolve().parent.parent
TASKS_PER_JOB = 20
CHANGED_DAG = "job-pipeline_0000"
PARSING_PROCESSES = 2
# the recommended settings (README, "Airflow-side sizing"); 2.x spells them under [scheduler]
SETTINGS = {"min_file_process_interval": "600", "refresh_interval": "60"}
SCHEDULER_NAMES = {"refresh_interval": "dag_dir_list_interval"}

_DAGBAG = """
import json, sys, time
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:
    from airflow.models.dagbag import DagBag

def rss_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

before = rss_kb()
wall, cpu = time.perf_counter(), time.process_time()
bag = DagBag(dag_folder=sys.argv[1])
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
errors = {path: str(error)[:300] for path, error in bag.import_errors.items()}
print(json.dumps({"dags": len(bag.dags), "errors": errors, "wall": wall, "cpu": cpu,
                  "rss_growth_kb": rss_kb() - before}))
"""


def split(dags: int) -> tuple[int, int]:
    """Jobs and schedulers making up `dags` DAGs, one scheduler per ten jobs."""
    schedulers = dags // 11
    return dags - schedulers, schedulers


def compile_folders(release: str, sizes: list[int], compiled: int, root: Path) -> dict[int, Path]:
    """One dags folder per size for `release`'s target, from `compiled` compiled DAGs: a
    smaller folder takes the first jobs and the schedulers that trigger only them; a larger
    one repeats the compiled files under new DAG ids (copy k renames `pipeline_0001` to
    `pipeline_c1_0001` everywhere, so schedulers trigger their own copies' jobs)."""
    jobs, schedulers = split(compiled)
    config = CompilerConfig(airflow=target_for(release))
    rows = synthetic_rows(jobs, TASKS_PER_JOB, schedulers)
    result = compile_dags(snapshot_from_json(rows), config=config)
    if result.problems or len(result.dags) != compiled:
        raise RuntimeError(f"compiling the synthetic rows failed: {result.problems[:3]}")
    sources = {dag_id: dag.source or "" for dag_id, dag in result.dags.items()}
    runtime = default_runtime_dir()
    folders = {}
    for size in sizes:
        folder = root / f"{release}-{size}"
        shutil.copytree(
            runtime, folder / "dags_runtime", ignore=shutil.ignore_patterns("__pycache__")
        )
        (folder / ".airflowignore").write_bytes(merge_airflowignore(b""))
        for copy in range(-(-size // compiled)):
            part_jobs, part_schedulers = split(min(compiled, size - copy * compiled))
            wanted = [f"job-pipeline_{j:04d}" for j in range(part_jobs)]
            wanted += [f"schedule-schedule_{s:03d}" for s in range(part_schedulers)]
            for dag_id in wanted:
                source, name = sources[dag_id], dag_id
                if copy:
                    renamed = rf"\1_c{copy}_\2"
                    source = _NUMBERED.sub(renamed, source)
                    name = _NUMBERED.sub(renamed, dag_id)
                (folder / f"{name}.py").write_text(source)
        folders[size] = folder
    return folders


def airflow_env(release: str, home: Path, folder: Path, db: Database) -> dict[str, str]:
    """The environment of an Airflow command for `release`: its own home, `db`, the folder
    and the recommended parsing settings."""
    section = "DAG_PROCESSOR" if release.startswith("3.") else "SCHEDULER"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "PATH": f"{venv_bin(release, '')}{os.pathsep}{os.environ['PATH']}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db.url,
        f"AIRFLOW__{section}__FILE_PARSING_SORT_MODE": "modified_time",
        f"AIRFLOW__{section}__PARSING_PROCESSES": str(PARSING_PROCESSES),
    }
    for name, value in SETTINGS.items():
        if section == "SCHEDULER":
            name = SCHEDULER_NAMES.get(name, name)
        env[f"AIRFLOW__{section}__{name.upper()}"] = value
    if section == "SCHEDULER" and db.standalone:
        env["AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR"] = "True"
    env.pop("PYTHONPATH", None)  # the release's own packages, not dynadag's
    return env


def venv_bin(release: str, name: str) -> Path:
    return ROOT / ".venv-airflow" / release / "bin" / name


def dagbag_fill(release: str, folder: Path, home: Path, db: Database) -> dict:
    """(a): one full DagBag fill of `folder` in a fresh interpreter of `release`."""
    out = subprocess.run(
        ["nice", "-n", "10", venv_bin(release, "python"), "-c", _DAGBAG, str(folder)],
        env=airflow_env(release, home, folder, db),
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise RuntimeError(f"DagBag of {folder} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["errors"]:
        raise RuntimeError(f"import errors in {folder}: {result['errors']}")
    return result


@dataclass
class Tree:
    """CPU and memory of a process and its descendants, sampled."""

    proc: psutil.Process
    peak_main_rss: int = 0
    peak_child_rss: int = 0

    def cpu(self) -> float:
        import psutil  # Airflow's dependency: in the dev venv, not in the CLI-only ones

        total = 0.0
        for proc in [self.proc, *self._children()]:
            try:
                t = proc.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
                rss = proc.memory_info().rss
            except psutil.NoSuchProcess:
                continue
            if proc is self.proc:
                self.peak_main_rss = max(self.peak_main_rss, rss)
            else:
                self.peak_child_rss = max(self.peak_child_rss, rss)
        return total

    def _children(self) -> list[psutil.Process]:
        import psutil

        try:
            return self.proc.children(recursive=True)
        except psutil.NoSuchProcess:
            return []


@dataclass
class SqliteDb:
    """A SQLite database file (Airflow 2 runs no standalone dag processor on it)."""

    path: Path
    standalone = False

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def query(self, sql: str, *args: object) -> list[tuple]:
        """`sql` with `?` parameters, read-only, retried while the database is locked."""
        for _ in range(50):
            try:
                with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5) as conn:
                    return conn.execute(sql, args).fetchall()
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc) or "locked" in str(exc):
                    time.sleep(0.2)
                    continue
                raise
        raise RuntimeError(f"{self.path} stayed locked")

    def copy(self, home: Path) -> SqliteDb:
        shutil.copy(self.path, home / "airflow.db")
        return SqliteDb(home / "airflow.db")


@dataclass
class Postgres:
    """A throwaway PostgreSQL cluster on a free localhost port, trusting local connections;
    run as `user` when the benchmark runs as root (PostgreSQL refuses root)."""

    user: str
    data: Path = field(init=False)
    port: int = field(init=False)
    tree: Tree = field(init=False)

    def start(self) -> None:
        self.data = Path(tempfile.mkdtemp(prefix="dynadag-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.data, self.user)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            self.port = free.getsockname()[1]
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        log = str(self.data / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-o", options, "start")
        import psutil

        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        self.tree = Tree(psutil.Process(pid))

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.data)

    def psql(self, database: str, sql: str) -> list[tuple]:
        """Rows of `sql` as tuples of strings."""
        out = subprocess.run(
            ["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-F", "\t", "-c", sql,
             f"postgresql://postgres@127.0.0.1:{self.port}/{database}"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return [tuple(line.split("\t")) for line in out.stdout.splitlines()]

    def _run(self, tool: str, *args: str) -> None:
        command = ["nice", "-n", "10", tool, *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@dataclass
class PostgresDb:
    """One database of a `Postgres` cluster."""

    cluster: Postgres
    name: str
    standalone = True

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.cluster.port}/{self.name}"

    def query(self, sql: str, *args: object) -> list[tuple]:
        """`sql` with `?` parameters (our own DAG ids and hashes, quoted as literals)."""
        for arg in args:
            sql = sql.replace("?", "'" + str(arg).replace("'", "''") + "'", 1)
        return self.cluster.psql(self.name, sql)

    def copy(self, home: Path) -> PostgresDb:
        name = re.sub(r"\W", "_", home.name)
        self.cluster.psql("postgres", f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        return PostgresDb(self.cluster, name)


Database = SqliteDb | PostgresDb


@contextmanager
def throwaway_postgres(user: str | None) -> Iterator[Postgres | None]:
    """A started `Postgres` cluster run as `user`, removed afterwards; None without a user."""
    if user is None:
        yield None
        return
    cluster = Postgres(user)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def processor_command(release: str, db: Database) -> str:
    """Airflow 2 refuses a standalone dag processor on SQLite: its scheduler runs the same
    DagFileProcessorManager in a child process (one parsing process on SQLite)."""
    return "dag-processor" if release.startswith("3.") or db.standalone else "scheduler"


@dataclass
class Processor:
    """One `airflow dag-processor` run under `nice`, in its own process group."""

    release: str
    home: Path
    folder: Path
    db: Database
    log: Path = field(init=False)
    popen: subprocess.Popen = field(init=False)
    tree: Tree = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.home / "processor.log"
        airflow = venv_bin(self.release, "airflow")
        with self.log.open("a") as log:
            self.popen = subprocess.Popen(
                ["nice", "-n", "10", airflow, processor_command(self.release, self.db)],
                env=airflow_env(self.release, self.home, self.folder, self.db),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        import psutil

        self.tree = Tree(psutil.Process(self.popen.pid))

    def wait(self, done, timeout: float) -> tuple[float, float]:
        """Sample until `done()`: the time and tree CPU when it first held."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                tail = self.log.read_text()[-2000:]
                raise RuntimeError(f"the dag processor exited:\n{tail}")
            cpu = self.tree.cpu()
            if done():
                return time.monotonic(), cpu
            time.sleep(0.5)
        raise TimeoutError(f"no progress within {timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


def serialized(db: Database) -> int:
    return int(db.query("SELECT count(DISTINCT dag_id) FROM serialized_dag")[0][0])


def parsed_times(db: Database) -> dict[str, object]:
    return dict(db.query("SELECT dag_id, last_parsed_time FROM dag"))


def _edit(path: Path, old: str, new: str) -> float:
    """Rewrite `path` with `old` replaced, as a sync writes it (a new file, a new mtime)."""
    source = path.read_text()
    if old not in source:
        raise RuntimeError(f"{old!r} is not in {path}")
    Path(f"{path}.tmp").write_text(source.replace(old, new))
    os.replace(f"{path}.tmp", path)
    return time.monotonic()


def _hash_changed(db: Database, dag_id: str):
    """A predicate: `dag_id`'s serialized DAG has a hash it does not have now."""
    before = [
        h for (h,) in db.query("SELECT dag_hash FROM serialized_dag WHERE dag_id = ?", dag_id)
    ]
    marks = ",".join("?" * len(before))
    sql = f"SELECT 1 FROM serialized_dag WHERE dag_id = ? AND dag_hash NOT IN ({marks})"
    return lambda: bool(db.query(sql, dag_id, *before))


def processor_run(
    release: str,
    folder: Path,
    home: Path,
    db: Database,
    dags: int,
    idle_seconds: float,
    window_wait: float,
    server: Tree | None = None,
) -> dict:
    """(b): first pass; idle CPU; a changed file's latency, and that of a second change
    right after it; then a restart, whose pass re-parses every unchanged file. `server`: the
    database server's processes, whose CPU during each pass is reported as `db_cpu`."""
    timeout = 60 + dags * 2.0
    path = folder / f"{CHANGED_DAG}.py"
    server_cpu = server.cpu if server else lambda: 0.0
    run = Processor(release, home, folder, db)
    try:
        start = time.monotonic()
        t1, cpu1 = run.wait(lambda: serialized(db) > 0, timeout)
        db1 = server_cpu()
        t2, cpu2 = run.wait(lambda: serialized(db) >= dags, timeout)
        first = {"startup_s": t1 - start, "startup_cpu": cpu1, "wall": t2 - t1, "cpu": cpu2 - cpu1}
        first["db_cpu"] = server_cpu() - db1
        print(f"  {dags} DAGs, first pass: {json.dumps(first)}", flush=True)  # a long run's part
        # a pass longer than the interval: the files parsed first are due again at its end, so
        # the processor never idles (the change waits for that queue; "idle" CPU is parsing)
        backlog = first["wall"] > float(SETTINGS["min_file_process_interval"])
        # idle, and past [core] min_serialized_dag_update_interval (30 s) since the first pass
        time.sleep(idle_seconds)
        idle_cpu = (run.tree.cpu() - cpu2) / idle_seconds
        changed = _hash_changed(db, CHANGED_DAG)
        at = _edit(path, "FROM staging.t0_0 ", "FROM staging.t0_0_v2 ")
        latency = run.wait(changed, timeout)[0] - at
        print(f"  changed file serialized after {latency:.1f} s", flush=True)
        # a second change of the same file within min_serialized_dag_update_interval
        changed = _hash_changed(db, CHANGED_DAG)
        at = _edit(path, "FROM staging.t0_1 ", "FROM staging.t0_1_v2 ")
        try:
            second: float | None = run.wait(changed, window_wait)[0] - at
        except TimeoutError:
            second = None
        peaks = (run.tree.peak_main_rss, run.tree.peak_child_rss)
    finally:
        run.stop()
    previous = parsed_times(db)
    rerun = Processor(release, home, folder, db)
    try:

        def reparsed(at_least: int) -> bool:
            now = parsed_times(db)
            return sum(now[d] != previous.get(d) for d in now) >= at_least

        t5, cpu5 = rerun.wait(lambda: reparsed(1), timeout)
        db5 = server_cpu()
        t6, cpu6 = rerun.wait(lambda: reparsed(dags), timeout)
        db6 = server_cpu()
    finally:
        rerun.stop()
    return {
        "first": first,
        "change_latency_s": latency,
        "second_change_latency_s": second,
        "idle_cpu_per_s": idle_cpu,
        "backlog": backlog,
        # net of the idle loop (on Airflow 2, the scheduler's own loop), unless it never idled
        "reparse": {
            "wall": t6 - t5,
            "cpu": cpu6 - cpu5 - (0 if backlog else idle_cpu * (t6 - t5)),
            "db_cpu": db6 - db5,
        },
        "peak_main_rss_mb": max(peaks[0], rerun.tree.peak_main_rss) / 2**20,
        "peak_child_rss_mb": max(peaks[1], rerun.tree.peak_child_rss) / 2**20,
    }


def migrated_db(release: str, home: Path, folder: Path, cluster: Postgres | None) -> Database:
    """An empty, migrated database for `release`, copied for each processor run: a SQLite
    file, or a database of `cluster`."""
    home.mkdir(parents=True)
    db: Database = SqliteDb(home / "airflow.db")
    if cluster:
        db = PostgresDb(cluster, re.sub(r"\W", "_", home.name))
        cluster.psql("postgres", f'CREATE DATABASE "{db.name}"')
    out = subprocess.run(
        ["nice", "-n", "10", venv_bin(release, "airflow"), "db", "migrate"],
        env=airflow_env(release, home, folder, db),
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise RuntimeError(f"airflow db migrate failed:\n{out.stderr[-3000:]}")
    return db


def per_day(cpu_per_pass: float, interval: float) -> float:
    """CPU-hours a day of re-parsing every file each `interval`, or back to back when a pass
    needs longer than that on `PARSING_PROCESSES` busy cores."""
    return cpu_per_pass * 86400 / max(interval, cpu_per_pass / PARSING_PROCESSES) / 3600


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--dags", type=int, action="append", help="folder sizes (1000, 4000)")
    parser.add_argument("--release", action="append", help="under .venv-airflow (3.3.2, 2.11.0)")
    parser.add_argument("--processor-max-dags", type=int, default=1000)
    parser.add_argument(
        "--compile-dags", type=int, default=1000, help="compile this many; repeat for more"
    )
    parser.add_argument(
        "--airflow2-processor-dags",
        type=int,
        default=110,
        help="Airflow 2 on SQLite parses ~1 file per scheduler loop: run it on this size only",
    )
    parser.add_argument("--idle-seconds", type=float, default=35.0)
    parser.add_argument("--window-wait", type=float, default=45.0)
    parser.add_argument(
        "--postgres",
        metavar="USER",
        help="run every processor standalone on a throwaway PostgreSQL cluster, as USER when "
        "run as root (e.g. postgres); default: SQLite",
    )
    args = parser.parse_args()
    releases = args.release or ["3.3.2", "2.11.0"]
    sizes = sorted(set(args.dags or [1000, 4000]))
    if not args.postgres and any(not r.startswith("3.") for r in releases):
        sizes = sorted({*sizes, args.airflow2_processor_dags})
    results: dict[str, dict] = {}
    with (
        tempfile.TemporaryDirectory(prefix="dynadag-dagproc-") as tmp,
        throwaway_postgres(args.postgres) as cluster,
    ):
        root = Path(tmp)
        for release in releases:
            start = time.perf_counter()
            compiled = min(max(sizes), args.compile_dags)
            folders = compile_folders(release, sizes, compiled, root / "dags")
            print(
                f"{release}: compiled {compiled} DAGs in {time.perf_counter() - start:.0f} s",
                flush=True,
            )
            empty = root / f"empty-{release}"
            empty.mkdir()
            template = migrated_db(release, root / f"home-{release}", empty, cluster)
            results[release] = {}
            for size, folder in folders.items():
                bag = dagbag_fill(release, folder, root / f"home-{release}", template)
                entry = {"dagbag": bag}
                print(
                    f"{release} {size} DAGs, DagBag: {bag['wall']:.1f} s wall, "
                    f"{bag['cpu'] / size * 1000:.1f} CPU-ms/file, "
                    f"RSS +{bag['rss_growth_kb'] / 1024:.0f} MB", flush=True,
                )  # fmt: skip
                if (
                    size <= args.processor_max_dags
                    if release.startswith("3.") or template.standalone
                    else size == args.airflow2_processor_dags
                ):
                    home = root / f"home-{release}-{size}"
                    home.mkdir()
                    proc = processor_run(
                        release,
                        folder,
                        home,
                        template.copy(home),
                        size,
                        args.idle_seconds,
                        args.window_wait,
                        cluster.tree if cluster else None,
                    )
                    entry["processor"] = proc
                    print(f"{release} {size} DAGs, processor: {json.dumps(proc)}", flush=True)
                results[release][size] = entry
    report(results, sizes, releases)


def _per_day_text(cpu: float, interval: float) -> str:
    busy = " (back to back)" if cpu / PARSING_PROCESSES > interval else ""
    return f"{interval} s: {per_day(cpu, interval):.2f}{busy}"


def _seconds(value: float | None) -> str:
    return (
        "(not within the wait: at the next periodic re-parse)"
        if value is None
        else f"{value:.1f} s"
    )


def report(results: dict[str, dict], sizes: list[int], releases: list[str]) -> None:
    """Per-file figures, the ratios and the CPU-hours a day they add up to."""
    small = sizes[0]
    base = releases[0]
    for release in releases:
        r = results[release]
        bag_ms = {s: r[s]["dagbag"]["cpu"] / s * 1000 for s in sizes}
        print(f"\n== Airflow {release}")
        for size in sizes[1:]:
            growth = bag_ms[size] / bag_ms[small]
            print(f"DagBag CPU per file, {size} / {small} DAGs: {growth:.2f}")
        if release != base:
            ratio = bag_ms[small] / (results[base][small]["dagbag"]["cpu"] / small * 1000)
            print(f"DagBag CPU per file at {small}, {release} / {base}: {ratio:.2f}")
        for size in sizes:
            proc = r[size].get("processor")
            if proc is None:
                continue
            first_ms = proc["first"]["cpu"] / size * 1000
            re_ms = proc["reparse"]["cpu"] / size * 1000
            ratios = (first_ms / bag_ms[size], re_ms / bag_ms[size], re_ms / first_ms)
            print(
                f"{size} DAGs: processor first pass {first_ms:.1f} CPU-ms/file, steady-state "
                f"{re_ms:.1f}; / DagBag {ratios[0]:.2f} and {ratios[1]:.2f}; steady / first "
                f"{ratios[2]:.2f}; changed file serialized after {proc['change_latency_s']:.1f} s, "
                f"a second change within 30 s after {_seconds(proc['second_change_latency_s'])}; "
                f"idle loop {proc['idle_cpu_per_s'] * 1000:.0f} CPU-ms/s; peak RSS: manager "
                f"{proc['peak_main_rss_mb']:.0f} MB, parser {proc['peak_child_rss_mb']:.0f} MB"
            )
            if proc["backlog"]:
                print(
                    "  the first pass outlasted min_file_process_interval: no idle loop, the "
                    "change waited for the files due again, the steady pass is not net of idle"
                )
            if proc["reparse"]["db_cpu"]:
                db_ms = [proc[k]["db_cpu"] / size * 1000 for k in ("first", "reparse")]
                print(f"  database server: {db_ms[0]:.1f} / {db_ms[1]:.1f} CPU-ms/file")
            for target in sizes:
                # another size: the per-file process overhead stays, the file's own parse
                # cost moves as the DagBag's does
                est = "" if target == size else " (extrapolated: + DagBag difference per file)"
                cpu = (re_ms + bag_ms[target] - bag_ms[size]) * target / 1000
                days = ", ".join(_per_day_text(cpu, interval) for interval in (30, 600, 3600))
                print(f"  {target} DAGs{est}: {cpu:.0f} CPU-s per pass; CPU-h/day at {days}")


if __name__ == "__main__":
    main()
