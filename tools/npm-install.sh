#!/bin/sh
# Installs a test's pinned npm packages under build/npm/NAME and prints that folder.
# tools/NAME/ holds package.json, package-lock.json and the test's scripts; they are copied
# to build/npm/NAME and `npm ci` runs there once (again when the lock file changes), so
# the source tree stays clean and `make clean` removes the download.
# Usage: tools/npm-install.sh NAME   (exits 1 with a message when npm cannot install)
set -eu
name=$1
src=tools/$name
dst=build/npm/$name
[ -f "$src/package-lock.json" ] || { echo "npm-install: $src/package-lock.json missing" >&2; exit 1; }
for cmd in node npm; do
    command -v "$cmd" >/dev/null 2>&1 ||
        { echo "npm-install: $cmd not found (make deps installs Debian's nodejs and npm)" >&2; exit 1; }
done
mkdir -p "$dst"
for f in "$src"/*; do
    [ -f "$f" ] && cp "$f" "$dst/"
done
if ! cmp -s "$src/package-lock.json" "$dst/node_modules/.lingraft-lock" 2>/dev/null; then
    # --omit=optional skips optional platform builds (node-llama-cpp's CUDA/Vulkan/ARM,
    # ~650 MB); --ignore-scripts skips postinstall steps that would download or build more.
    (cd "$dst" && npm ci --omit=optional --ignore-scripts --no-audit --no-fund >&2) || {
        echo "npm-install: npm ci in $dst failed (is the npm registry reachable?)" >&2; exit 1; }
    cp "$src/package-lock.json" "$dst/node_modules/.lingraft-lock"
fi
echo "$dst"
