#!/bin/sh
# Removes eidlink from a Mac (a .pkg has no uninstaller): the manifests first, with eidlink
# itself, then the programs, the LaunchAgent and the receipt. Run with sudo.
set -e
"/Library/Application Support/eidlink/eidlink" uninstall --system || true
rm -rf "/Library/Application Support/eidlink"
rm -f /Library/LaunchAgents/org.eidlink.tray.plist
pkgutil --forget org.eidlink.pkg || true
