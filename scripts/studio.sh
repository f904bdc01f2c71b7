#!/usr/bin/env bash
# Set everything up (once) and open the editor. Extra arguments go to the app (e.g. a photo to open).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# Qt 6 on X11 needs libxcb-cursor, which many desktops lack; say so instead of Qt's cryptic abort.
if [ "$(uname -s)" = Linux ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    echo "No display found: start BrushEdit Studio from a desktop session." >&2
    echo "Headless use: .venv/bin/brushedit --help (or QT_QPA_PLATFORM=offscreen for a window without a screen)." >&2
    exit 1
  fi
  if [ -z "${WAYLAND_DISPLAY:-}" ] && command -v ldconfig >/dev/null 2>&1 \
     && ! ldconfig -p 2>/dev/null | grep -q 'libxcb-cursor\.so\.0'; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxcb-cursor0 >/dev/null
    else
      echo "Qt needs the system library libxcb-cursor0 to open a window on X11. Install it with:" >&2
      echo "  sudo apt-get install libxcb-cursor0    (Debian, Ubuntu)" >&2
      echo "  sudo dnf install xcb-util-cursor       (Fedora)" >&2
      exit 1
    fi
  fi
fi
exec .venv/bin/python main.py "$@"
