#!/bin/sh
# Install BrushEdit Studio for the current user: the bundle into ~/.local/opt, a launcher on PATH,
# the menu entry and the icon. Run it from the unpacked tarball. Uninstall: ./install.sh --uninstall
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix="${XDG_DATA_HOME:-$HOME/.local/share}"
opt="$HOME/.local/opt/BrushEditStudio"
bin="$HOME/.local/bin"
if [ "${1:-}" = "--uninstall" ]; then
  rm -rf "$opt" "$bin/BrushEditStudio" "$prefix/applications/brushedit-studio.desktop" \
         "$prefix/icons/hicolor/256x256/apps/brushedit-studio.png"
  echo "BrushEdit Studio removed (your models and settings are kept)."
  exit 0
fi
mkdir -p "$opt" "$bin" "$prefix/applications" "$prefix/icons/hicolor/256x256/apps"
rm -rf "$opt" && cp -a "$here/BrushEditStudio" "$opt"
ln -sf "$opt/BrushEditStudio" "$bin/BrushEditStudio"
sed "s|^Exec=BrushEditStudio|Exec=$opt/BrushEditStudio|" "$here/brushedit-studio.desktop" \
  > "$prefix/applications/brushedit-studio.desktop"
cp "$here/brushedit-studio.png" "$prefix/icons/hicolor/256x256/apps/brushedit-studio.png"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$prefix/applications" || true
echo "BrushEdit Studio installed: run BrushEditStudio, or find it in your applications menu."
