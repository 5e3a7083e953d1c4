#!/usr/bin/env bash
# Runs a command with a private pcscd and the vpcd virtual readers (scripts/lib.sh start_pcscd),
# which it stops afterwards; the command finds it through PCSCLITE_CSOCK_NAME and
# EIDLINK_VPCD_PORT. A pcscd somebody else runs is neither used nor touched. For example:
#   bash scripts/with-pcscd.sh cargo test -p eidlink-tests
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }
. "$(dirname "$0")/lib.sh"
EIDLINK_TMP=$(mktemp -d /tmp/eidlink-pcscd.XXXXXX)
trap 'stop_pcscd; rm -rf "$EIDLINK_TMP"' EXIT
start_pcscd
export EIDLINK_PCSCD_LOG="$EIDLINK_TMP/pcscd.log"
rc=0
"$@" || rc=$?
exit "$rc"
