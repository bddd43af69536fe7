# Sourced by the end-to-end scripts (after setting `work`, a scratch folder):
#   check NAME COMMAND...     counts COMMAND's success in passed/failed, prints FAIL: NAME
#   expect_rc RC COMMAND...   runs COMMAND with stdout/stderr in $work/out and
#                             $work/err; fails (showing both) unless it exits RC
passed=0
failed=0
check() {
  local name=$1
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name"; fi
}
expect_rc() {
  local want=$1 rc=0
  shift
  "$@" >"$work/out" 2>"$work/err" || rc=$?
  [ "$rc" -eq "$want" ] || { echo "exit $rc, wanted $want: $*"; tail -20 "$work/err"; head -20 "$work/out"; return 1; }
}
