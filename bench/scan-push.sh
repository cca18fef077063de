#!/usr/bin/env bash
# Manifest PUT latency with auto_scan off and on (the scan workers busy); see bench/README.md.
exec "$(dirname "$0")/scan-bench.sh" push
