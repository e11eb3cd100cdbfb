#!/usr/bin/env bash
# The GPU visit's limits, checked without a GPU or a bundle: each call's declared step
# time limits (with each kill's grace) sum to at most 480 s, every step the runner runs
# has a limit in its call's table, the maker's size limit is 60 MiB, and the maker
# refuses a call that would carry more.
set -uo pipefail
runner=kernels/cuda/run_gpu_visit.sh
maker=kernels/cuda/make_gpu_visit.sh
failures=0
fail() { echo "FAILED: $*" >&2; failures=$((failures + 1)); }

for call in call1 call2; do
  table="$("$runner" --budget "$call")" || fail "$runner --budget $call exited non-zero"
  total="$(awk '$1 == "total" { print $2 }' <<<"$table")"
  steps="$(grep -vc '^total ' <<<"$table")"
  [ "$steps" -ge 5 ] || fail "$call declares $steps steps (expected at least 5)"
  [ -n "$total" ] && [ "$total" -le 480 ] || fail "$call's limits sum to '$total' s (at most 480)"
  echo "$call: $steps steps, $total s"
done

# Every step the runner starts, literal or a harness run (config.dtype), is declared.
declared="$("$runner" --budget call1; "$runner" --budget call2)"
while read -r name; do
  grep -q "^$name " <<<"$declared" || fail "step '$name' has no declared time limit"
done < <(grep -oE '^\s+(if ! )?step [a-z_]+' "$runner" | awk '{ print $NF }'
         grep -oE '^\s+harness gpu_[a-z0-9_]+ [a-z0-9]+' "$runner" | awk '{ print $2 "." $3 }')

limit="$("$maker" --print_limit)"
[ "$limit" = $((60 * 1024 * 1024)) ] || fail "the maker's size limit is '$limit' bytes (expected 60 MiB)"

# A bundle whose call 1 would carry 50 MiB beside an 11 MiB tree is refused in one line;
# the same bundle beside a 9 MiB tree fits.
bundle="$TEST_TMPDIR/bundle"
mkdir -p "$bundle/call1" "$bundle/call2"
truncate -s 50M "$bundle/call1/model.part1"
truncate -s 1M "$bundle/call2/model.part2"
if "$maker" --check_sizes "$bundle" --tree_bytes $((11 * 1024 * 1024)) 2>"$TEST_TMPDIR/err"; then
  fail "the maker accepted 61 MiB for call 1"
fi
[ "$(wc -l <"$TEST_TMPDIR/err")" -eq 1 ] && grep -q "call1 .*over the limit of 60.0 MiB" "$TEST_TMPDIR/err" ||
  fail "the maker's refusal is not one line naming call1 and the limit: $(cat "$TEST_TMPDIR/err")"
"$maker" --check_sizes "$bundle" --tree_bytes $((9 * 1024 * 1024)) >/dev/null ||
  fail "the maker refused 59 MiB for call 1"

[ "$failures" -eq 0 ] || exit 1
echo PASSED
