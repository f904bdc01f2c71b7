#!/usr/bin/env bash
# Create .venv and install BrushEdit Studio with its test extra. Idempotent: a second run with the
# same pyproject.toml and the same interpreter installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

pick_python() {
  for py in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$py" ] || continue
    command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  echo "BrushEdit Studio needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

extras="${BRUSHEDIT_EXTRAS:-test}"
if [ ! -x .venv/bin/python ]; then
  py=$(pick_python)
  echo "==> creating .venv with $($py --version)"
  "$py" -m venv .venv
fi

# The stamp covers everything that decides what gets installed.
stamp_src="$(cat pyproject.toml scripts/setup.sh; .venv/bin/python -VV; echo "$extras")"
stamp=$(printf '%s' "$stamp_src" | sha256sum | cut -d' ' -f1)
if [ -f .venv/.brushedit-installed ] && [ "$(cat .venv/.brushedit-installed)" = "$stamp" ]; then
  exit 0
fi

echo "==> installing BrushEdit Studio and its dependencies into .venv (first run: several GB, a few minutes)"
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[${extras}]"
echo "$stamp" > .venv/.brushedit-installed
echo "==> .venv is ready"
