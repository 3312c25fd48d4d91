#!/usr/bin/env bash
# Refresh the vendored browser libraries of the officer console from npm.
#
# The hub serves these files itself (no CDN) and neither CI nor the tests run npm: the
# copies below are committed. To update Leaflet: change the version in package.json, run
# this script (node 20 + npm), check the console's browser tests, commit the result.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$work/"
if [[ -f "$here/package-lock.json" ]]; then cp "$here/package-lock.json" "$work/"; fi
(cd "$work" && npm install --ignore-scripts --no-audit --no-fund)
cp "$work/package-lock.json" "$here/package-lock.json"
dist="$work/node_modules/leaflet/dist"
rm -rf "$here/leaflet"
mkdir -p "$here/leaflet/images"
cp "$dist/leaflet.js" "$dist/leaflet.css" "$here/leaflet/"
cp "$dist/images/"*.png "$here/leaflet/images/"
cp "$work/node_modules/leaflet/LICENSE" "$here/leaflet/LICENSE"
version="$(node -p "require('$work/node_modules/leaflet/package.json').version")"
echo "leaflet $version" > "$here/leaflet/VERSION"
echo "vendored leaflet $version into $here/leaflet"
