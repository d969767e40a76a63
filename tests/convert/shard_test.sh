#!/bin/bash
# plan + convert-unit + ingest (issue 16) against one-machine convert of the
# same synthetic download: equal dump of every split and equal report;
# a finished unit left alone; ingest refusing a missing unit; a unit
# refusing a changed input. Usage: shard_test.sh OIV4KV_BINARY
set -u
B="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
source "$(dirname "$0")/same_dumps.sh"
"$B" synth --images 60 --max-side 64 --threads 1 "$T/dl" >/dev/null 2>&1 || fail synth
"$B" convert --source "$T/dl" --store "$T/one" --config original --on-error skip --threads 1 \
  >/dev/null 2>&1 || fail convert
"$B" plan --source "$T/dl" --config original --on-error skip --out "$T/w/plan.json" >"$T/n" 2>/dev/null \
  || fail plan
units=$(cat "$T/n")
[ "$units" = 18 ] || fail "plan has $units units, want 18 (train_0..f, validation, test)"
for ((k = 0; k < units; k++)); do
  "$B" convert-unit --plan "$T/w/plan.json" --unit $k --out "$T/w" --threads 1 2>/dev/null || fail "unit $k"
done
# Ingest refuses a missing unit, naming it, and ingests nothing.
mv "$T/w/train_3" "$T/w/x3"
out=$("$B" ingest --plan "$T/w/plan.json" --store "$T/two" 2>&1) && fail "ingest with a missing unit succeeded"
echo "$out" | grep -q "unit 3 (train_3): missing" || fail "missing unit not named: $out"
"$B" info "$T/two" 2>/dev/null | grep -q "original.*complete" && fail "something was ingested"
mv "$T/w/x3" "$T/w/train_3"
# A finished unit is left alone.
out=$("$B" convert-unit --plan "$T/w/plan.json" --unit 3 --out "$T/w" 2>&1) || fail "rerun of unit 3"
echo "$out" | grep -q "unit already converted: 3" || fail "finished unit redone: $out"
"$B" ingest --plan "$T/w/plan.json" --store "$T/two" 2>/dev/null || fail ingest
out=$("$B" ingest --plan "$T/w/plan.json" --store "$T/two" 2>&1) || fail "second ingest"
echo "$out" | grep -q "already complete" || fail "second ingest: $out"
why=$(same_dumps "$B" "$T/one" "$T/two" "$T") || fail "$why"
"$B" info "$T/one" 2>&1 | grep -vE "^store|^schema|options|images\.|meta|annotations +[0-9.]+ [KMG]?i?B" >"$T/i1"
"$B" info "$T/two" 2>&1 | grep -vE "^store|^schema|options|images\.|meta|annotations +[0-9.]+ [KMG]?i?B" >"$T/i2"
diff "$T/i1" "$T/i2" || fail "info (counts, report) differs"
grep -q "belongs in train_6" "$T/i2" || grep -q "left out" "$T/i2" || true
# A unit refuses an input changed since the plan.
rm -rf "$T/w/test"
echo "extra" >>"$(find "$T/dl" -name 'test-annotations-bbox.csv')"
out=$("$B" convert-unit --plan "$T/w/plan.json" --unit 17 --out "$T/w" 2>&1) && fail "changed input accepted"
echo "$out" | grep -q "input changed since the plan was made: .*test-annotations-bbox.csv" \
  || fail "changed input not named: $out"
echo "PASS: 18 units, 3 splits equal"
