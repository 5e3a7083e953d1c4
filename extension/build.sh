#!/usr/bin/env bash
# Builds dist/ (see build.mjs): the unpacked extensions and the reproducible archives.
set -euo pipefail
exec node "$(dirname "$0")/build.mjs" "$@"
