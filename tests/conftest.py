"""Shared fixtures: an isolated AWS environment, a moto server on loopback, an Airflow home.

Airflow reads AIRFLOW_HOME when it is first imported, so it is set here, before any
test module imports Airflow; each xdist worker gets its own home and SQLite database.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# This machine is shared and noisy: property tests check behaviour, never time, so no
# per-example deadline (Hypothesis's default 200 ms fails examples that merely waited).
settings.register_profile("dynadag", deadline=None)
settings.load_profile("dynadag")

_AIRFLOW_HOME = Path(
    tempfile.mkdtemp(prefix=f"dynadag-airflow-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-")
)
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_AIRFLOW_HOME / "dags")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}"
os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_ROWS = REPO_ROOT / "examples" / "rows.json"
# examples/rows-all-types.json needs the opt-ins a deployment sets in its environment.
EXAMPLE_OPT_INS = {"DYNADAG_ALLOW_BASH": "true", "DYNADAG_PYTHON_MODULE_PREFIXES": "analytics"}
_AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(autouse=True)
def isolate_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real credentials, profiles or endpoints can leak into a test."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "DYNADAG_")):
            monkeypatch.delenv(name)
    empty = tmp_path / "aws-empty-config"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    for name, value in _AWS_TEST_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 and a free port, for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto_endpoint(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The moto server's URL, with its state reset and AWS_ENDPOINT_URL pointing at it."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    return moto_server


@pytest.fixture(scope="session")
def _airflow_metadata_db() -> None:
    from airflow.utils import db

    db.resetdb()


@pytest.fixture
def airflow_dags_folder(_airflow_metadata_db: None) -> Path:
    """Airflow's (emptied) dags folder, backed by an initialised SQLite metadata database.

    `dag.test()` in Airflow 3 runs DAGs from the configured bundle, so files under
    test must be written here.
    """
    folder = _AIRFLOW_HOME / "dags"
    if folder.exists():
        for path in folder.iterdir():
            if path.is_file():
                path.unlink()
    folder.mkdir(exist_ok=True)
    return folder
