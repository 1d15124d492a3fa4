#!/usr/bin/env bash
# Checks every tracked C++ file against .clang-format without changing any: lists the files
# that differ and exits 1 when there are any (0 when all are formatted). Usage:
#   tools/check-format.sh [FILE...]      (default: every tracked *.cpp and *.hpp)
# Env: CLANG_FORMAT (default clang-format-14 if installed, else clang-format).
set -euo pipefail
cd "$(dirname "$0")/.."
cf=${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}
[ -n "$cf" ] || { echo "check-format: clang-format not found; apt-get install clang-format" >&2; exit 2; }

if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files -- '*.cpp' '*.hpp' '*.h' '*.cc')
fi
[ ${#files[@]} -gt 0 ] || { echo "check-format: no C++ files" >&2; exit 0; }

bad=()
for f in "${files[@]}"; do
  "$cf" --style=file --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  printf '%s\n' "${bad[@]}"
  echo "check-format: ${#bad[@]} of ${#files[@]} files differ from .clang-format;" \
    "see one with: $cf --style=file --dry-run FILE" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files match .clang-format"
