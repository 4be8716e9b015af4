#!/usr/bin/env bash
# Set-up for the browser test (BrowserPageTest, Maven profile -Pbrowser): Debian's chromium package and
# playwright-core from npm, which drives that Chromium and downloads no browser of its own.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if ! command -v chromium >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium
fi
npm ci --no-audit --no-fund
echo "browser test ready: $(chromium --version), playwright-core $(node -p 'require("./node_modules/playwright-core/package.json").version')"
