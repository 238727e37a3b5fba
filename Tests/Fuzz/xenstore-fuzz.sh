#!/bin/sh
# Coverage-guided fuzzing of the xenstore server with libFuzzer (swiftc -sanitize=fuzzer).
#   Tests/Fuzz/xenstore-fuzz.sh [SECONDS] [libFuzzer options...]
# Builds .build/fuzz/xenstore-fuzzer from the server's sources and runs it for SECONDS
# (default 60) on the corpus in .build/fuzz/xenstore-corpus. A crash leaves crash-* in the
# current directory; replay it with: .build/fuzz/xenstore-fuzzer crash-<hash>
# The toolchain is found as Sources/SwiftvisorHost/Toolchain.swift finds it:
# $SWIFTVISOR_TOOLCHAIN (a usr/bin folder), else the folder of the swiftc on PATH.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:-60}
[ $# -gt 0 ] && shift
if [ -n "${SWIFTVISOR_TOOLCHAIN:-}" ]; then bin=$SWIFTVISOR_TOOLCHAIN; else bin=$(dirname "$(readlink -f "$(command -v swiftc)")"); fi
out=$root/.build/fuzz
mkdir -p "$out/xenstore-corpus"
sources="$root/Sources/SwiftvisorCore/Xenstore/*.swift $root/Sources/SwiftvisorCore/Hypercalls/XenDomainID.swift $here/XenstoreFuzzer.swift"
stamp=$out/xenstore-fuzzer.stamp
# Rebuild only when a source changed.
if [ ! -x "$out/xenstore-fuzzer" ] || [ -n "$(find $sources -newer "$stamp" 2>/dev/null | head -1)" ]; then
    echo "building $out/xenstore-fuzzer" >&2
    # shellcheck disable=SC2086
    "$bin/swiftc" -sanitize=fuzzer,address -parse-as-library -O -g -module-name XenstoreFuzz \
        $sources -o "$out/xenstore-fuzzer" 2>&1 | grep -v "Cannot export local symbol" >&2 || true
    [ -x "$out/xenstore-fuzzer" ] || { echo "build failed" >&2; exit 1; }
    touch "$stamp"
fi
exec "$out/xenstore-fuzzer" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$@" "$out/xenstore-corpus"
