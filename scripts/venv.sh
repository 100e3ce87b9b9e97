#!/usr/bin/env bash
# Run a command inside the project's virtual environment, creating or updating it first.
# Usage: scripts/venv.sh python -m reverie.run [overrides...]   |   scripts/venv.sh pytest
# The environment lives in .venv (override with REVERIE_VENV); it is reinstalled when pyproject.toml changes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${REVERIE_VENV:-$root/.venv}"
stamp="$venv/.reverie-installed"
want="$(sha256sum "$root/pyproject.toml" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ]; then
  echo "[reverie] creating virtual environment in $venv" >&2
  python3 -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[reverie] installing reverie and its dependencies (first run only)" >&2
  "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
  "$venv/bin/python" -m pip install --quiet -e "$root[dev]" >&2
  echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
cd "$root"
exec "$@"
