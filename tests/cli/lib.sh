# Shared helpers for the CLI tests. Each test_*.sh sources this file, runs
# tools from $DIDICM_BIN and calls `finish` at the end; the last line it prints
# is "N passed, N failed".

set -u

: "${DIDICM_BIN:?set DIDICM_BIN to the folder holding the didicm-* tools}"
: "${DIDICM_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
export PATH="$DIDICM_BIN:$PATH"
# CTest runs two tests at once on two cores: OpenMP threads that spin while
# they wait would then slow every LibTorch call several times over.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

passed=0
failed=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/didicm-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

pass() { passed=$((passed + 1)); }
fail() {
  failed=$((failed + 1))
  echo "FAIL: $*" >&2
}

# run_tool EXPECTED_STATUS COMMAND...: runs COMMAND with stdout in $WORK/out
# and stderr in $WORK/err, and checks its exit status.
run_tool() {
  local expected=$1
  shift
  local status=0
  "$@" >"$WORK/out" 2>"$WORK/err" || status=$?
  if [ "$status" -eq "$expected" ]; then
    pass
  else
    fail "'$*' exited $status, expected $expected; stderr: $(head -c 600 "$WORK/err")"
  fi
}

# expect_contains FILE TEXT: FILE contains TEXT (fixed string).
expect_contains() {
  if grep -qF -- "$2" "$1"; then pass; else fail "$1 does not contain '$2': $(head -c 600 "$1")"; fi
}

expect_not_contains() {
  if grep -qF -- "$2" "$1"; then fail "$1 contains '$2'"; else pass; fi
}

expect_file() {
  if [ -f "$1" ]; then pass; else fail "missing file $1"; fi
}

expect_no_file() {
  if [ -e "$1" ]; then fail "unexpected file $1"; else pass; fi
}

# expect_equal ACTUAL EXPECTED [WHAT]
expect_equal() {
  if [ "$1" = "$2" ]; then pass; else fail "${3:-value}: got '$1', expected '$2'"; fi
}

# json_field FILE KEY: the value of KEY in a one-line JSON object (numbers and strings).
json_field() {
  /usr/bin/python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())[sys.argv[2]])' "$1" "$2"
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
