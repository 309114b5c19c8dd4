#!/usr/bin/env bash
# Build the virtualenv of one target Airflow release: infra/airflow_venv.sh VERSION
# Installs infra/airflow-targets/VERSION.txt into .venv-airflow/VERSION/ and prints
# that path. Idempotent: a stamp file carries the pin file's checksum, so a second
# run with the same pins does nothing. PYTHON (default python3) must be Python 3.11.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 VERSION   (one of: $(cd "$(dirname "$0")/airflow-targets" && ls -- *.txt | sed 's/\.txt$//' | tr '\n' ' '))" >&2
  exit 2
fi
version=$1
root=$(cd "$(dirname "$0")/.." && pwd)
pins=$root/infra/airflow-targets/$version.txt
if [ ! -f "$pins" ]; then
  echo "$0: no pin set for Airflow '$version' ($pins)" >&2
  exit 2
fi
python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "$0: the pins are for Python 3.11; set PYTHON to a python3.11 (got: $python)" >&2
  exit 2
fi
venv=$root/.venv-airflow/$version
stamp=$venv/.installed-$(cksum <"$pins" | cut -d' ' -f1)

if [ ! -f "$stamp" ]; then
  test -x "$venv/bin/python" || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
  "$venv/bin/python" -m pip install --quiet -r "$pins" >&2
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi
echo "$venv"
