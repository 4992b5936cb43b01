#!/usr/bin/env bash
# macOS: the .app (from packaging/deepdive_lab.spec's BUNDLE) into a .dmg. UNTESTED: these
# Linux machines cannot build it. A release engineer on a Mac (Xcode command line tools):
#   python3 packaging/build_llama.py --install && pip install -e '.[package]'
#   python3 packaging/build_package.py        # dist/Deep Dive Lab.app, frozen --selftest
#   packaging/macos/make_dmg.sh               # dist/deepdive-lab.dmg
# Signing and notarisation (codesign, notarytool) need the project's Apple developer
# identity and are not scripted here.
set -euo pipefail
cd "$(dirname "$0")/../.."
app="dist/Deep Dive Lab.app"
test -d "$app" || { echo "build the app first: python3 packaging/build_package.py" >&2; exit 1; }
rm -f dist/deepdive-lab.dmg
hdiutil create -volname "Deep Dive Lab" -srcfolder "$app" -ov -format UDZO dist/deepdive-lab.dmg
echo "dist/deepdive-lab.dmg"
