#!/usr/bin/env bash
# Print the path of a working Python X.Y: infra/find_python.sh 3.12
# Tries pythonX.Y on PATH (a pyenv shim counts only if it runs), then pyenv's installed
# versions, then python3; exits 1, printing nothing, when none is X.Y.
set -uo pipefail

if [ $# -ne 1 ] || [[ ! $1 =~ ^3\.[0-9]+$ ]]; then
  echo "usage: $0 3.Y" >&2
  exit 2
fi
want=$1
candidates=("python$want")
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  # Newest patch release first.
  for dir in $(ls -d "$root/versions/$want".* 2>/dev/null | sort -t. -k3 -n -r); do
    candidates+=("$dir/bin/python$want")
  done
fi
candidates+=(python3)
for candidate in "${candidates[@]}"; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c "import sys; sys.exit(f'{sys.version_info[0]}.{sys.version_info[1]}' != '$want')" 2>/dev/null; then
    # The interpreter itself, not a shim that depends on the current pyenv version.
    "$path" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
exit 1
