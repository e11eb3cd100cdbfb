#!/usr/bin/env bash
# Builds every fuzz target with libFuzzer (clang, ASan + UBSan) and runs each on its
# seed corpus, one after another, for a given time or number of executions.
#
#   fuzzing/run.sh 60                          # each target for 60 seconds
#   fuzzing/run.sh --runs=10000000             # each target for 10M executions
#   fuzzing/run.sh 60 //eval/gguf:gguf_file_fuzzer   # only the targets named
#
# New inputs go to a scratch corpus ($KVLAB_FUZZ_WORK, default /tmp/kvlab-fuzz), never
# into the committed seeds; a crash, leak or timeout leaves its input there and fails
# the script. Prints one line per target, "//pkg:target PASSED (N executions in S s)" or
# FAILED, in the form .ci/run counts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ $# -lt 1 ]; then
  echo "usage: fuzzing/run.sh SECONDS|--runs=N [//package:target ...]" >&2
  exit 1
fi
limit="$1"
shift
case "$limit" in
  --runs=*) budget=(-runs="${limit#--runs=}") ;;
  *[!0-9]*|"") echo "fuzzing/run.sh: SECONDS must be a whole number, got '$limit'" >&2; exit 1 ;;
  *) budget=(-max_total_time="$limit") ;;
esac

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(bazel query --noshow_progress 'attr(tags, "fuzz_target", //...)' 2>/dev/null)
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzzing/run.sh: no fuzz targets found" >&2
  exit 1
fi

bazel build --config=fuzz "${targets[@]}"
bin="$(bazel info --config=fuzz bazel-bin 2>/dev/null)"
work="${KVLAB_FUZZ_WORK:-/tmp/kvlab-fuzz}"
root="$(pwd)"

failed=0
summary=()
for target in "${targets[@]}"; do
  package="${target#//}"
  package="${package%%:*}"
  name="${target##*:}"
  scratch="$work/$name"
  mkdir -p "$scratch/corpus" "$scratch/artifacts"
  log="$scratch/log"
  # Run from the target's runfiles, where its data dependencies (a model) are.
  status=0
  (cd "$bin/$package/$name.runfiles/kvlab" &&
    "$bin/$package/$name" "${budget[@]}" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$scratch/artifacts/" "$scratch/corpus" "$root/$package/fuzz_corpus/$name") \
    >"$log" 2>&1 || status=$?
  runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
  seconds="$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' || echo '?')"
  if [ "$status" -eq 0 ]; then
    result="PASSED"
  else
    result="FAILED"
    failed=$((failed + 1))
    tail -n 30 "$log" >&2
    echo "fuzzing/run.sh: $target failed (exit $status); log $log, inputs in $scratch/artifacts" >&2
  fi
  summary+=("$(printf '%-45s %s (%s executions in %s s)' "$target" "$result" "$runs" "$seconds")")
done
printf '%s\n' "${summary[@]}"
[ "$failed" -eq 0 ]
