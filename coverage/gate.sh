#!/usr/bin/env bash
# The coverage gate: bash coverage/gate.sh [--report-only] [--details] [TRACEFILE]
# (default build/coverage/coverage.info). The work is done by gate.py.
exec "${PYTHON:-/usr/bin/python3}" "$(dirname "$0")/gate.py" "$@"
