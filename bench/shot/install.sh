#!/usr/bin/env bash
# bench/shot/install.sh: install shot.js's npm packages (package.json and
# package-lock.json beside this script, exact versions) into
# ${XDG_CACHE_HOME:-$HOME/.cache}/rxprobe-shot with `npm ci`, and unpack
# Chromium there once. Idempotent: silent when the installed lock file is
# this one; otherwise one line saying what it installs. Needs node and npm,
# not root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache="${XDG_CACHE_HOME:-${HOME:?bench/shot: neither XDG_CACHE_HOME nor HOME is set}/.cache}/rxprobe-shot"
for t in node npm; do
	command -v "$t" >/dev/null 2>&1 || { echo "bench/shot: $t not found: install Debian's nodejs and npm (node 20.11 or newer)" >&2; exit 2; }
done
# installed.json: a copy of the lock file, written last, once Chromium runs.
if [ -d "$cache/node_modules" ] && cmp -s "$here/package-lock.json" "$cache/installed.json"; then
	exit 0
fi
echo "bench/shot: installing @sparticuz/chromium and puppeteer-core (npm ci) into $cache"
mkdir -p "$cache"
cp "$here/package.json" "$here/package-lock.json" "$cache/"
rm -rf "$cache"/chromium-* "$cache"/unpack-* "$cache/installed.json"
log="$cache/npm-ci.log"
if ! npm ci --prefix "$cache" --no-audit --no-fund >"$log" 2>&1; then
	echo "bench/shot: npm ci failed (log: $log):" >&2
	tail -n 5 "$log" >&2
	rm -rf "$cache/node_modules"
	exit 1
fi
node "$here/shot.js" --version
cp "$here/package-lock.json" "$cache/installed.json"
