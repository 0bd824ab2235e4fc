#!/usr/bin/env bash
# System packages the tests need: poppler-utils (pdfsig, pdftotext), Chromium for the browser tests, and the
# Pango libraries WeasyPrint renders with. Installed with apt when missing and running as root.
set -euo pipefail
need=()
command -v pdfsig >/dev/null 2>&1 || need+=(poppler-utils)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(npm)  # axe-core for the accessibility scans comes from the npm registry
ldconfig -p 2>/dev/null | grep -q libpango-1.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "Missing system packages: ${need[*]}. Install them with: sudo apt-get install ${need[*]}" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
fi
echo "Installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${need[@]}" >/dev/null
