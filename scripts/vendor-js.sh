#!/usr/bin/env bash
# Refresh the vendored JavaScript from the npm registry (no JS build in Trellis).
#   htmx.org -> src/trellis/web/static/trellis/vendor/htmx.min.js (served to browsers)
#   axe-core -> tests/browser/vendor/axe.min.js (injected by the accessibility tests)
# Usage: scripts/vendor-js.sh [HTMX_VERSION] [AXE_VERSION]
set -euo pipefail
HTMX_VERSION=${1:-2.0.11}
AXE_VERSION=${2:-4.14.1}
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "htmx.org@${HTMX_VERSION}" "axe-core@${AXE_VERSION}" >/dev/null
tar -xzf "htmx.org-${HTMX_VERSION}.tgz" && mv package htmx
tar -xzf "axe-core-${AXE_VERSION}.tgz" && mv package axe
mkdir -p "$top/src/trellis/web/static/trellis/vendor" "$top/tests/browser/vendor"
cp htmx/dist/htmx.min.js "$top/src/trellis/web/static/trellis/vendor/htmx.min.js"
cp htmx/LICENSE "$top/src/trellis/web/static/trellis/vendor/htmx.LICENSE"
cp axe/axe.min.js "$top/tests/browser/vendor/axe.min.js"
cp axe/LICENSE "$top/tests/browser/vendor/axe.LICENSE"
printf 'htmx.org %s\naxe-core %s\n' "$HTMX_VERSION" "$AXE_VERSION" > "$top/tests/browser/vendor/VERSIONS"
cp "$top/tests/browser/vendor/VERSIONS" "$top/src/trellis/web/static/trellis/vendor/VERSIONS"
echo "vendored htmx.org ${HTMX_VERSION} and axe-core ${AXE_VERSION}"
