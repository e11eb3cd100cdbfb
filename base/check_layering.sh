#!/bin/bash
# Usage: check_layering.sh DEPS_FILE PACKAGE...
# DEPS_FILE lists labels, one a line (a genquery's output). Fails if any label lies in
# one of the PACKAGE folders (beside or above the package under test), listing them.
set -euo pipefail
deps_file="$1"
shift
pattern="^//($(IFS='|'; echo "$*"))[:/]"
if violations=$(grep -E "$pattern" "$deps_file"); then
  echo "depends on a folder beside or above its own layer (see docs/architecture.md):" >&2
  echo "$violations" >&2
  exit 1
fi
echo "no dependency on: $*"
