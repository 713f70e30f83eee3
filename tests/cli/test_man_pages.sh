#!/bin/bash
# Every tool has a man page that documents every long option its --help lists,
# with the sections a reader looks for.
source "$(dirname "$0")/lib.sh"

for tool in "$DIDICM_BIN"/didicm-*; do
  name=$(basename "$tool")
  page="$DIDICM_SOURCE_DIR/man/man1/$name.1"
  expect_file "$page"
  [ -f "$page" ] || continue

  # roff writes "\-\-steps" for "--steps".
  sed 's/\\//g' "$page" >"$WORK/page.txt"
  for section in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES; do
    expect_contains "$WORK/page.txt" ".SH $section"
  done
  "$tool" --help >"$WORK/help.txt"
  for option in $(grep -oE -- '--[a-z][a-z0-9-]+' "$WORK/help.txt" | sort -u); do
    expect_contains "$WORK/page.txt" "$option"
  done
done

expect_file "$DIDICM_SOURCE_DIR/man/man7/didicm.7"
finish
