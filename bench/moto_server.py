"""A moto server that keeps connections alive, as AWS endpoints do.

    .venv/bin/python -m bench.moto_server PORT

`python -m moto.server` runs werkzeug's development server, which answers every request
with ``Connection: close`` (werkzeug cannot drain a request before reading the next one),
so each request a client makes pays for a new TCP connection. AWS endpoints keep
HTTP/1.1 connections alive and botocore pools them. This serves moto's own WSGI
application through uvicorn (HTTP/1.1 keep-alive) and a2wsgi, both installed with
Airflow in `.venv`, so a benchmark's client does the work it does against AWS.
"""

from __future__ import annotations

import sys

import uvicorn
from a2wsgi import WSGIMiddleware
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app


def main() -> None:
    app = DomainDispatcherApplication(create_backend_app)
    uvicorn.run(
        WSGIMiddleware(app),  # type: ignore[arg-type]
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        timeout_keep_alive=60,
    )


if __name__ == "__main__":
    main()
