# tests/lib.sh: the preamble every shell test shares.  A test starts with
#
#   . "${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"
#
# and gets, from `make check`'s environment or defaults that work in a
# source tree:
#   SRCDIR  the top of the source tree
#   MT      the binary (default SRCDIR/src/memray-transform); exit 99
#           (a hard error) if it is not executable
#   DATA    the bundled captures (default SRCDIR/tests/data)
#   TEST    this test's name, e.g. "errors" for errors.test
#   work    a temporary folder, removed when the test exits
#   PYTHON  /usr/bin/python3 where it exists, else python3: the system
#           interpreter starts ten times faster than a version-manager
#           shim, and no test starts one per case
# If MT_THREADS is set (the *-1thread and *-2threads tests set it), MT is
# a wrapper that runs the binary with --threads $MT_THREADS first, so that
# a test covers the main-thread decoding and the reader thread alike.
# and the helpers below.  A test ends with `finish`, which prints the
# closing "N passed, N failed" line and exits 0, 1 (a failure) or 77
# (everything skipped).
set -u

TEST=$(basename "$0" .test)
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
MT=${MT:-$SRCDIR/src/memray-transform}
DATA=${DATA:-$SRCDIR/tests/data}
PYTHON=python3
[[ -x /usr/bin/python3 ]] && PYTHON=/usr/bin/python3

if [[ ! -x $MT ]]; then
  echo "$TEST.test: $MT is not executable (build it first)" >&2
  exit 99
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/$TEST.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT

if [[ -n ${MT_THREADS:-} ]]; then
  mkdir "$work/.threads" || exit 99
  # exec: the wrapper's process is the binary's (signals, exit status).
  printf '#!/bin/sh\nexec "$MT_UNWRAPPED" --threads "$MT_THREADS" "$@"\n' \
    >"$work/.threads/memray-transform"
  chmod +x "$work/.threads/memray-transform"
  export MT_UNWRAPPED=$MT MT_THREADS
  MT=$work/.threads/memray-transform
fi

passed=0 failed=0 skipped=0

ok() { # LABEL
  passed=$((passed + 1))
  echo "ok   $1"
}

fail() { # LABEL WHY
  failed=$((failed + 1))
  echo "FAIL $1: $2"
}

skip() { # LABEL WHY
  skipped=$((skipped + 1))
  echo "skip $1: $2"
}

# need_files FILE...: a missing fixture is a hard error (exit 99).
need_files() {
  local f
  for f in "$@"; do
    if [[ ! -f $f ]]; then
      echo "$TEST.test: missing fixture $f" >&2
      exit 99
    fi
  done
}

# need_python: exit 99 unless $PYTHON runs.
need_python() {
  if ! command -v "$PYTHON" >/dev/null; then
    echo "$TEST.test: python3 is needed (on Debian: apt-get install python3)" >&2
    exit 99
  fi
}

# first_line FILE: its first line, at most 300 bytes.
first_line() {
  head -c 300 "$1" | head -n 1
}

# lines FILE: how many lines it has.
lines() {
  wc -l <"$1" | tr -d ' '
}

# meta_is FILE KEY VALUE: does the meta.json FILE hold "KEY": VALUE?
meta_is() {
  grep -Eq "\"$2\"[[:space:]]*:[[:space:]]*$3[[:space:]]*(,|\$|})" "$1"
}

# format13_captures [native|aggregated]...: the bundled format-13 captures
# (DATA/*/*/capture.bin), sorted, one a line; native and aggregated ones
# only where named.
format13_captures() {
  local capture meta allow=" $* "
  find "$DATA" -mindepth 3 -maxdepth 3 -name capture.bin | LC_ALL=C sort |
    while IFS= read -r capture; do
      meta=${capture%/capture.bin}/meta.json
      meta_is "$meta" format_version 13 || continue
      [[ $allow == *" native "* ]] || ! meta_is "$meta" native true || continue
      [[ $allow == *" aggregated "* ]] || ! meta_is "$meta" aggregated true || continue
      echo "$capture"
    done
}

# finish: the closing line and the exit status.
finish() {
  if ((skipped > 0)); then
    echo "$passed passed, $failed failed, $skipped skipped"
  else
    echo "$passed passed, $failed failed"
  fi
  if ((failed > 0)); then
    exit 1
  elif ((passed == 0)); then
    exit 77
  fi
  exit 0
}
