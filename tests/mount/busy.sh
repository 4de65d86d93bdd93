#!/usr/bin/env bash
# busy.sh - a long verification holds nothing the rest of the mount needs
# (issue 14, items 2 and 3).
#
# The fixture (tests/mount/mkzeros.py, made in about a second) holds "big",
# a legal DEFLATE entry of 16 GiB of zeros in 16 MB, whose CRC-32 pass
# takes tens of seconds here.  As many readers as the daemon has CPUs
# (two at least) start on it, at offsets 1 GiB apart: one verifies, the
# others wait for it.  Then
#  - latency: a lookup, a 5-byte file and a listing of the root each take
#    less than a second, while the readers are still waiting (the old
#    daemon had one worker per CPU, all of them taken: 36 s);
#  - sigterm: SIGTERM during the pass detaches the mount and ends the
#    daemon, with status 0, each within a second (the old daemon joined
#    its workers first, so waited for the pass: 37 s); the readers fail
#    with ENOTCONN or ECONNABORTED, not EIO; the log has no error.
# Each section has a mount of its own; BUSY_SECTIONS picks some ("latency
# sigterm" by default).

. "$(dirname "$0")/lib.sh"
require_mount

HERE=$(cd "$(dirname "$0")" && pwd)
MNT=$W/mnt
A=$W/zeros.ozx
GIB=16
LIMIT_MS=1000

check "building the fixture: $GIB GiB of zeros in one DEFLATE entry"
"$PY" "$HERE/mkzeros.py" "$A" $((GIB << 10)) || fail "mkzeros.py failed"
ok "$(stat -c %s "$A") bytes"

NREADERS=$(nproc) || fail nproc
[ "$NREADERS" -ge 2 ] || NREADERS=2
READERS=()

# start_verifying: mount, start NREADERS readers of big and wait until the
# daemon computes (the pass has begun).
start_verifying()
{
	local i t0
	mount_ozx "$A" "$MNT"
	t0=$(cpu_ticks "$OZX_PID") || fail "no CPU time of $OZX_PID"
	READERS=()
	for i in $(seq 1 "$NREADERS"); do
		# 1 GiB apart: readers of one page would queue on its lock
		# in the kernel, and only one request would reach us.
		dd if="$MNT/big" of=/dev/null bs=64k skip=$((i << 14)) count=1 \
			status=none 2>"$W/reader.$i" &
		READERS+=($!)
		OZX_EXTRA_PIDS+=($!)
	done
	wait_until 30 cpu_at_least "$OZX_PID" $((t0 + 20)) ||
		fail "the daemon has not started verifying after 30 s"
}

not_mounted()
{
	! is_mounted "$1"
}

# readers_waiting: every reader is still blocked on big.
readers_waiting()
{
	local p
	for p in "${READERS[@]}"; do
		pid_alive "$p" || return 1
	done
}

# timed DESCRIPTION CMD...: CMD succeeds within LIMIT_MS.
timed()
{
	local what=$1 t0 t1
	shift
	t0=$(mono_ms)
	"$@" >"$W/out" 2>"$W/err" || fail "$what failed: $(head -c 300 "$W/err")"
	t1=$(mono_ms)
	[ $((t1 - t0)) -lt "$LIMIT_MS" ] ||
		fail "$what took $((t1 - t0)) ms while big was being verified, want < $LIMIT_MS ms"
	ok "$what: $((t1 - t0)) ms"
}

section_latency()
{
	check "=== latency: other requests while $NREADERS readers wait on big ==="
	start_verifying
	readers_waiting || fail "a reader of big ended before the checks"
	check "stat, a small file and ls of the root, each in < $LIMIT_MS ms"
	timed "stat zarr.json" stat "$MNT/zarr.json"
	timed "cat small" cat "$MNT/small"
	[ "$(cat "$W/out")" = hello ] || fail "small read '$(cat "$W/out")', want 'hello'"
	timed "ls of the root" ls "$MNT"
	[ "$(tr '\n' ' ' <"$W/out")" = "big small zarr.json " ] ||
		fail "ls of the root: '$(cat "$W/out")'"
	timed "getfattr user.ozx.verified of big" \
		getfattr --only-values -n user.ozx.verified "$MNT/big"
	[ "$(cat "$W/out")" = no ] || fail "big is verified already: '$(cat "$W/out")'"
	readers_waiting || fail "a reader of big ended: the pass was not in progress throughout"
	ok "all the while, the $NREADERS readers of big were still waiting"
	kill -TERM "$OZX_PID"
	wait_gone "$OZX_PID" 30 || fail "daemon $OZX_PID still running 30 s after SIGTERM"
	wait "$OZX_PID"
	unset "OZX_PID_OF[$MNT]"
}

section_sigterm()
{
	local t0 t1 t2 rc p i
	check "=== sigterm: during the pass, detached and exit 0 within $LIMIT_MS ms ==="
	start_verifying
	readers_waiting || fail "a reader of big ended before SIGTERM"
	t0=$(mono_ms)
	kill -TERM "$OZX_PID" || fail "kill -TERM $OZX_PID"
	wait_until 30 not_mounted "$MNT" || fail "$MNT still mounted 30 s after SIGTERM"
	t1=$(mono_ms)
	wait_gone "$OZX_PID" 30 || fail "daemon $OZX_PID still running 30 s after SIGTERM"
	t2=$(mono_ms)
	wait "$OZX_PID"
	rc=$?
	unset "OZX_PID_OF[$MNT]"
	[ $((t1 - t0)) -lt "$LIMIT_MS" ] ||
		fail "the mount was detached $((t1 - t0)) ms after SIGTERM, want < $LIMIT_MS ms"
	[ $((t2 - t0)) -lt "$LIMIT_MS" ] ||
		fail "the daemon exited $((t2 - t0)) ms after SIGTERM, want < $LIMIT_MS ms"
	[ "$rc" -eq 0 ] || fail "daemon exit status $rc after SIGTERM, want 0"
	ok "detached after $((t1 - t0)) ms, exit status 0 after $((t2 - t0)) ms"
	check "the readers failed with ENOTCONN or ECONNABORTED"
	i=0
	for p in "${READERS[@]}"; do
		i=$((i + 1))
		wait_gone "$p" 10 || fail "reader $p still running 10 s after SIGTERM"
		wait "$p" && fail "reader $i of big succeeded"
		grep -Eq 'Transport endpoint is not connected|Software caused connection abort' \
			"$W/reader.$i" || fail "reader $i: '$(cat "$W/reader.$i")'"
	done
	ok "$(sort -u "$W"/reader.* | tr '\n' ';')"
	check_log
}

for s in ${BUSY_SECTIONS:-latency sigterm}; do
	"section_$s"
done

echo "PASS: $TEST_NAME"
