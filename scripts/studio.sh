#!/usr/bin/env bash
# Set everything up (once) and open the editor. Extra arguments go to the app (e.g. a photo to open).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python main.py "$@"
