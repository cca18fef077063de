#!/usr/bin/env bash
# Re-matching IMAGES (1000) scanned artifacts after a vulnerability database import; see bench/README.md.
exec "$(dirname "$0")/scan-bench.sh" rematch
