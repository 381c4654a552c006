#!/bin/sh
# The web UI's budgets in headless chromium (tests/bench/ui/bench.mjs):
# JavaScript gzipped, first render of a 10,000-server list, 100 live row
# updates, scrolling through it: the real list (pages/servers.js and
# components/servertable.js, as built by make ui). Needs make ui; does not use the bench stack (the UI is
# served with an in-memory fleet, so the figures are the UI's own).
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -f "$top/build/ui/dist/index.html" ] || { echo "ui: make ui first" >&2; exit 1; }
exec node "$top/tests/bench/ui/bench.mjs" "$@"
