#!/bin/sh
# Puts Deep Dive Lab in this user's applications menu and lets .gguf files open with it.
# Run from the unpacked folder (it writes only under ~/.local/share, or $XDG_DATA_HOME):
#     ./install-desktop-entry.sh
set -e
here="$(cd "$(dirname "$0")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
mkdir -p "$data/applications" "$data/mime/packages"
# the entry in the folder names the program and icon by name; the menu needs full paths
sed -e "s|^Exec=.*|Exec=\"$here/deepdive-lab\" %f|" \
    -e "s|^Icon=.*|Icon=$here/deepdive-lab.png|" \
    "$here/deepdive-lab.desktop" > "$data/applications/deepdive-lab.desktop"
# .gguf is no registered file type: say what it is, so the desktop can offer this app
cat > "$data/mime/packages/deepdive-lab-gguf.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="application/x-gguf">
    <comment>GGUF model</comment>
    <glob pattern="*.gguf"/>
  </mime-type>
</mime-info>
XML
if command -v update-mime-database >/dev/null 2>&1; then update-mime-database "$data/mime"; fi
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database "$data/applications"
fi
if command -v xdg-mime >/dev/null 2>&1; then
    xdg-mime default deepdive-lab.desktop application/x-gguf || true
fi
echo "Deep Dive Lab is in your applications menu, and .gguf files open with it."
