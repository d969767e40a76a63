# Sourced by the conversion tests: same_dumps BINARY STORE_A STORE_B SCRATCH
# succeeds when `oiv4-kv dump` of every split (train, validation, test) is
# non-empty and byte-equal in both stores; else prints why and fails.
same_dumps() {
  local b=$1 one=$2 two=$3 scratch=$4 split checked=0
  for split in train validation test; do
    "$b" dump --split $split "$one" >"$scratch/d1" 2>&1
    "$b" dump --split $split "$two" >"$scratch/d2" 2>&1
    [ -s "$scratch/d1" ] || { echo "empty dump of $split"; return 1; }
    cmp -s "$scratch/d1" "$scratch/d2" || { echo "dump of $split differs from one-machine convert"; return 1; }
    checked=$((checked + 1))
  done
  [ $checked = 3 ] || { echo "checked $checked splits"; return 1; }
}
