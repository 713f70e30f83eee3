#!/bin/bash
# didicm-prep and didicm-eval must not load LibTorch: its libraries spend
# hundreds of milliseconds in static initialization, paid by every call in a
# shell loop. The training and sampling tools do need it.
source "$(dirname "$0")/lib.sh"

needed_libraries() { readelf -d "$DIDICM_BIN/$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

for tool in didicm-prep didicm-eval; do
  libraries=$(needed_libraries "$tool")
  if [ -z "$libraries" ]; then
    fail "$tool: readelf listed no libraries"
  elif grep -E '^lib(torch|c10)' <<<"$libraries" >/dev/null; then
    fail "$tool loads LibTorch: $(tr '\n' ' ' <<<"$libraries")"
  else
    pass
  fi
done

for tool in didicm-train didicm-sample didicm-ablate; do
  if needed_libraries "$tool" | grep -E '^libtorch' >/dev/null; then
    pass
  else
    fail "$tool does not list LibTorch; the check above would prove nothing"
  fi
done

finish
