#!/bin/bash
# didicm-prep on the odd files of real ImageNet copies: CMYK, YCCK, PNG named
# .JPEG, grayscale, progressive, 1x1, huge, EXIF-rotated, and broken files.
source "$(dirname "$0")/lib.sh"
IMAGES="$DIDICM_BUILD_DIR/test-tools/didicm-test-images"

h5() {
  /usr/bin/python3 -c "import sys, h5py, numpy as np; f = h5py.File(sys.argv[1], 'r'); print(($2))" "$1"
}

# Odd but valid images: all must decode.
good="$WORK/good"
mkdir -p "$good/odd"
"$IMAGES" ycck-cyan "$good/odd/a_ycck.JPEG" 64 48
"$IMAGES" cmyk-cyan "$good/odd/b_cmyk.JPEG" 64 48
"$IMAGES" png "$good/odd/c_png.JPEG" 70 50
"$IMAGES" jpeg "$good/odd/d_gray.JPEG" 64 48 gray
"$IMAGES" jpeg "$good/odd/e_progressive.JPEG" 64 48 progressive
"$IMAGES" jpeg "$good/odd/f_tiny.JPEG" 1 1
"$IMAGES" jpeg "$good/odd/g_huge.JPEG" 10000 8000 gray 50
# Garbage between the image data and the EOI marker: a libjpeg warning only.
"$IMAGES" jpeg "$WORK/plain.jpg" 64 48
/usr/bin/python3 -c "import sys; b = open(sys.argv[1], 'rb').read(); open(sys.argv[2], 'wb').write(b[:-2] + b'\x12' * 100 + b[-2:])" \
  "$WORK/plain.jpg" "$good/odd/h_extraneous.JPEG"

# The huge image must decode scaled: a full RGB decode would need 240 MB.
/usr/bin/time -f '%M' -o "$WORK/rss" didicm-prep "$good" -o "$WORK/good.h5" --size 32 --threads 2 >"$WORK/out" 2>"$WORK/err"
expect_equal "$?" 0 "odd images decode"
expect_equal "$(json_field "$WORK/out" images)" 8 "odd images"
# Compare with the peak memory of a run on one small image (the shared
# libraries alone take over 100 MB).
mkdir -p "$WORK/small/x"
"$IMAGES" jpeg "$WORK/small/x/small.JPEG" 64 48
/usr/bin/time -f '%M' -o "$WORK/rss_small" didicm-prep "$WORK/small" -o "$WORK/small.h5" --size 32 -q >/dev/null 2>&1
rss_kb=$(tail -1 "$WORK/rss")
extra_kb=$((rss_kb - $(tail -1 "$WORK/rss_small")))
if [ "$extra_kb" -lt 60000 ]; then pass; else fail "a 10000x8000 JPEG took ${extra_kb} KB more peak memory than a small one"; fi
expect_contains "$WORK/err" "h_extraneous.JPEG: Corrupt JPEG data"
expect_contains "$WORK/err" "(image kept)"

# Cyan CMYK and YCCK come out close to (0, 255, 255).
pixel() { h5 "$WORK/good.h5" "f['images'][$1][16, 16].tolist()"; }
close_to() {
  /usr/bin/python3 -c "import sys, ast; a = ast.literal_eval(sys.argv[1]); b = ast.literal_eval(sys.argv[2]); sys.exit(max(abs(x - y) for x, y in zip(a, b)) > int(sys.argv[3]))" "$1" "$2" "$3" \
    && pass || fail "${4:-pixel}: $1 is not within $3 of $2"
}
close_to "$(pixel 0)" "[0, 255, 255]" 6 "YCCK cyan"
close_to "$(pixel 1)" "[0, 255, 255]" 6 "CMYK cyan"
# Grayscale: three equal channels.
gray=$(pixel 3)
expect_equal "$(/usr/bin/python3 -c "import ast, sys; p = ast.literal_eval(sys.argv[1]); print(p[0] == p[1] == p[2])" "$gray")" True "gray channels"
# PNG named .JPEG: lossless, so the result must match PIL's bilinear resize
# and torchvision's center crop within rounding.
/usr/bin/python3 - "$good/odd/c_png.JPEG" "$WORK/good.h5" >"$WORK/png_diff" <<'PY'
import sys, h5py, numpy as np
from PIL import Image
image = Image.open(sys.argv[1]).convert('RGB')
short = round(32 / 0.875)
width, height = image.size
size = (int(short * width / height), short) if width > height else (short, int(short * height / width))
image = image.resize(size, Image.BILINEAR)
left, top = int(round((size[0] - 32) / 2.0)), int(round((size[1] - 32) / 2.0))
expected = np.asarray(image.crop((left, top, left + 32, top + 32)), dtype=int)
print(int(np.abs(h5py.File(sys.argv[2], 'r')['images'][2].astype(int) - expected).max()))
PY
if [ "$(cat "$WORK/png_diff")" -le 1 ]; then pass; else fail "PNG differs from PIL by $(cat "$WORK/png_diff")"; fi

# EXIF orientation: ignored by default, applied with the flag.
mkdir -p "$WORK/exif/x"
"$IMAGES" jpeg "$WORK/plain_wide.jpg" 80 40
/usr/bin/python3 - "$WORK/plain_wide.jpg" "$WORK/exif/x/rotated.JPEG" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
tiff = b'II*\x00' + struct.pack('<I', 8) + struct.pack('<H', 1) + struct.pack('<HHIHH', 0x0112, 3, 1, 6, 0) + b'\x00' * 4
segment = b'Exif\x00\x00' + tiff
open(sys.argv[2], 'wb').write(data[:2] + b'\xff\xe1' + struct.pack('>H', len(segment) + 2) + segment + data[2:])
PY
run_tool 0 didicm-prep "$WORK/exif" -o "$WORK/exif_off.h5" --size 16 --crop-pct 1
run_tool 0 didicm-prep "$WORK/exif" -o "$WORK/exif_on.h5" --size 16 --crop-pct 1 --exif-orientation
# The test image's red channel grows left to right; after a clockwise turn it grows top to bottom.
expect_equal "$(h5 "$WORK/exif_off.h5" "int(f['images'][0][8, 15, 0]) > int(f['images'][0][8, 0, 0])")" True "EXIF ignored"
expect_equal "$(h5 "$WORK/exif_on.h5" "int(f['images'][0][15, 8, 0]) > int(f['images'][0][0, 8, 0])")" True "EXIF applied"
expect_equal "$(h5 "$WORK/exif_on.h5" "f.attrs['exif_orientation']")" 1 "EXIF attribute"

# Broken files: each stops the run with "didicm-prep: <path>: <reason>", exit 1, no output.
bad="$WORK/bad"
mkdir -p "$bad/c"
"$IMAGES" jpeg "$bad/c/0_ok.JPEG" 64 48
check_bad() {
  local name=$1 reason=$2
  run_tool 1 didicm-prep "$bad" -o "$WORK/bad.h5" --size 16
  expect_contains "$WORK/err" "didicm-prep: $bad/c/$name: $reason"
  expect_no_file "$WORK/bad.h5"
  mv "$bad/c/$name" "$WORK/set_aside_$name" 2>/dev/null || rm -rf "$bad/c/$name"
}
"$IMAGES" jpeg "$WORK/photo.jpg" 300 200 photo
head -c 20000 "$WORK/photo.jpg" >"$bad/c/1_truncated.JPEG"
check_bad 1_truncated.JPEG "truncated JPEG"
: >"$bad/c/2_empty.JPEG"
check_bad 2_empty.JPEG "empty file"
echo "this is not an image" >"$bad/c/3_text.JPEG"
check_bad 3_text.JPEG "not a JPEG or PNG image"
# Tests may run as root, where chmod 000 does not stop reading: a dangling
# symbolic link is a file that cannot be opened.
ln -s "$WORK/does-not-exist.JPEG" "$bad/c/4_unreadable.JPEG"
check_bad 4_unreadable.JPEG "cannot open: No such file or directory"
if [ "$(id -u)" != 0 ]; then
  cp "$bad/c/0_ok.JPEG" "$bad/c/5_noperm.JPEG"
  chmod 000 "$bad/c/5_noperm.JPEG"
  check_bad 5_noperm.JPEG "cannot open: Permission denied"
fi
head -c 300 "$WORK/photo.jpg" >"$bad/c/6_header_only.JPEG"
check_bad 6_header_only.JPEG "invalid JPEG header"
# A named pipe with an image name must not block the run: opening it waits
# for a writer unless the open is non-blocking.
mkfifo "$bad/c/7_pipe.JPEG"
run_tool 1 timeout 30 didicm-prep "$bad" -o "$WORK/bad.h5" --size 16
expect_contains "$WORK/err" "didicm-prep: $bad/c/7_pipe.JPEG: not a regular file"
expect_no_file "$WORK/bad.h5"
rm "$bad/c/7_pipe.JPEG"

# With --skip-bad, all of them are skipped, counted and listed.
for name in 1_truncated.JPEG 2_empty.JPEG 3_text.JPEG 6_header_only.JPEG; do
  mv "$WORK/set_aside_$name" "$bad/c/$name"
done
ln -s "$WORK/does-not-exist.JPEG" "$bad/c/4_unreadable.JPEG"
run_tool 0 didicm-prep "$bad" -o "$WORK/bad.h5" --size 16 --skip-bad
expect_equal "$(json_field "$WORK/out" images)" 1 "good images kept"
expect_equal "$(json_field "$WORK/out" skipped)" 5 "bad images skipped"
expect_contains "$WORK/err" "2_empty.JPEG: empty file (0 bytes) (skipped)"
expect_contains "$WORK/err" "skipped 5 bad files"
expect_equal "$(h5 "$WORK/bad.h5" "[s.decode() for s in f['skipped/sources'][:]]")" \
  "['c/1_truncated.JPEG', 'c/2_empty.JPEG', 'c/3_text.JPEG', 'c/4_unreadable.JPEG', 'c/6_header_only.JPEG']" "/skipped"
expect_contains <(h5 "$WORK/bad.h5" "f['skipped/reasons'][0].decode()") "truncated"

# Only bad files: nothing to write.
rm "$bad/c/0_ok.JPEG"
run_tool 1 didicm-prep "$bad" -o "$WORK/allbad.h5" --size 16 --skip-bad
expect_contains "$WORK/err" "every image was bad"
expect_no_file "$WORK/allbad.h5"

finish
