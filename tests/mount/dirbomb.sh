#!/usr/bin/env bash
# dirbomb.sh - issue 14, item 5: directories implied by names are budgeted
# per record (core/ozx.h: at most 4 per record plus 65,536), so that
#   - a directory bomb (records "NNNNN/a/.../a/f" 128 components deep, 127
#     private directories each; tests/mount/mkdirbomb.py) is refused fast,
#     with exit status 3 and "too many directories implied by names", in
#     the memory of the budget (308e210 mounted the 11.9 MB archive of
#     20,000 records used here after 6.2 s at 170 MB: 2.54 M nodes);
#   - a legal deep tree (500 such records: 63,500 directories, within the
#     budget) mounts in the stated memory (core/archive_i.h: 64 bytes and
#     the name per node), and `find` over it costs what it costs over a
#     shallow tree of as many nodes, give or take the re-opens of find's
#     own directory walk: time linear in the nodes, not in nodes x depth.
# Time and memory bounds are not checked under OZXFS_WRAPPER (valgrind).

. "$(dirname "$0")/lib.sh"

[ -x "$PY" ] || skip "$PY is missing"
[ -n "${OZXFS:-}" ] || fail "OZXFS is not set (path of the ozxfs daemon)"
command -v timeout >/dev/null || skip "timeout(1) is missing"

GEN=$(dirname "$0")/mkdirbomb.py
PER_RECORD=4 EXTRA=65536	# the budget, as core/ozx.h states it
NAME_LEN=259			# "NNNNN/" + 126 x "a/" + "f"
BOMB=20000 LEGAL=500 DEPTH=128
T=60	# seconds any single command may take
MNT=$W/mnt RMNT=$W/rmnt
mkdir -p "$MNT" "$RMNT" || fail mkdir

# budget_kib RECORDS NAMEBYTES: what the index may hold by the stated
# budget, in KiB: 64 bytes a node, at most 1 + 4 nodes a record plus
# 65,536, names no more than twice the records' (archive_i.h).
budget_kib()
{
	echo $(((64 * (1 + PER_RECORD) * $1 + 64 * EXTRA + 2 * $2) / 1024))
}

# run_measured OUT CMD...: run CMD, write "STATUS SECONDS MAXRSS_KIB" to
# OUT (the peak of CMD and of the children it waited for).
run_measured()
{
	local out=$1
	shift
	"$PY" - "$out" "$@" <<'EOF'
import os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
t = time.monotonic()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, ru = os.wait4(pid, 0)
with open(out, "w") as f:
    f.write("%d %.3f %d\n" % (os.waitstatus_to_exitcode(status),
                              time.monotonic() - t, ru.ru_maxrss))
EOF
}

check "generating a directory bomb of $BOMB records, $DEPTH components each"
A=$W/bomb.ozx
"$PY" "$GEN" "$A" "$BOMB" "$DEPTH" || fail "mkdirbomb.py failed"
ok "$(stat -c %s "$A") bytes, $((BOMB * (DEPTH - 1))) implied directories"

# Refused at the first record past the budget, at its local header.
budget=$((BOMB * PER_RECORD + EXTRA))
first=$((budget / (DEPTH - 1)))
want="ozxfs: '$A' is not a usable archive: too many directories implied by names (at offset $((first * (30 + NAME_LEN))))"

check "the bomb is refused: exit status 3, one line, under 2 s, in the budget's memory"
# shellcheck disable=SC2086
run_measured "$W/rusage" timeout -k 5 "$T" ${OZXFS_WRAPPER:-} "$OZXFS" \
	"$A" "$RMNT" 2>"$W/refuse.err" >"$W/refuse.out" ||
	fail "cannot run the daemon"
read -r rc secs rss <"$W/rusage"
if [ "$rc" -eq 0 ] || is_mounted "$RMNT"; then
	fusermount3 -u -- "$RMNT" 2>/dev/null
	fail "the bomb was mounted (exit status $rc after $secs s, ${rss} KiB), want a refusal"
fi
[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "the daemon still ran after $T s"
mapfile -t err < <(grep -Ev '^==[0-9]+==' "$W/refuse.err")
[ "$rc" -eq 3 ] && [ "${#err[@]}" -eq 1 ] && [ "${err[0]}" = "$want" ] || {
	cat "$W/refuse.err" >&2
	fail "exit status $rc and the lines above, want 3 and '$want'"
}
[ ! -s "$W/refuse.out" ] || fail "the daemon wrote to standard output"
# Time and memory are measured only for a daemon that runs alone.
measured=1
plain_daemon || measured=
[ -n "$measured" ] ||
	echo "note: not measured: time and memory (the daemon runs under a wrapper or ASan)"
if [ -n "$measured" ]; then
	lim=$(($(budget_kib "$BOMB" $((BOMB * NAME_LEN))) * 5 / 4 + 8192))
	awk -v s="$secs" 'BEGIN { exit !(s < 2) }' ||
		fail "refused after $secs s, want under 2 s"
	[ "$rss" -le "$lim" ] ||
		fail "refused at a peak of $rss KiB, want at most $lim KiB"
fi
ok "${err[0]#"ozxfs: '$A' "} ($secs s, peak $rss KiB)"

require_mount

# mount_hwm ARCHIVE: mount it and set HWM to the daemon's VmHWM in KiB.
mount_hwm()
{
	mount_ozx "$1" "$MNT"
	HWM=$(awk '/^VmHWM:/ { print $2 }' "/proc/$OZX_PID/status")
	[ -n "$HWM" ] || fail "no VmHWM for pid $OZX_PID"
}

# time_find N: find over the mount lists N paths; SECS is how long it took.
time_find()
{
	local t0 t1 n
	t0=$(date +%s%N)
	n=$(timeout "$T" find "$MNT" | wc -l) || fail "find in '$MNT' failed or took over $T s"
	t1=$(date +%s%N)
	[ "$n" -eq "$1" ] || fail "find listed $n paths, want $1"
	SECS=$(((t1 - t0) / 1000000))
}

check "a one-file archive, for the daemon's memory without an index"
"$PY" "$GEN" "$W/one.ozx" 1 2 || fail "mkdirbomb.py failed"
mount_hwm "$W/one.ozx"
base=$HWM
unmount_ozx "$MNT"
ok "VmHWM $base KiB"

nodes=$((1 + LEGAL * DEPTH))
check "a legal deep tree: $LEGAL records, $((LEGAL * (DEPTH - 1))) implied directories (budget $((LEGAL * PER_RECORD + EXTRA)))"
"$PY" "$GEN" "$W/legal.ozx" "$LEGAL" "$DEPTH" || fail "mkdirbomb.py failed"
mount_hwm "$W/legal.ozx"
lim=$((base + $(budget_kib "$LEGAL" $((LEGAL * NAME_LEN))) * 5 / 4 + 1024))
[ -z "$measured" ] || [ "$HWM" -le "$lim" ] ||
	fail "VmHWM $HWM KiB with $nodes nodes, want at most $lim KiB"
ok "mounted, VmHWM $HWM KiB ($(((HWM - base) * 1024 / nodes)) bytes a node over the empty daemon)"
deep=$(printf 'a/%.0s' $(seq $((DEPTH - 2))))
for k in 00000 00499; do
	[ -f "$MNT/$k/${deep}f" ] || fail "'$k/${deep}f' is not a file on the mount"
done
time_find "$nodes"
t_deep=$SECS
ok "find: $nodes paths in $t_deep ms"
unmount_ozx "$MNT"

shallow=$((LEGAL * DEPTH / 5))
check "as many nodes, 5 deep: $shallow records"
"$PY" "$GEN" "$W/shallow.ozx" "$shallow" 5 || fail "mkdirbomb.py failed"
mount_ozx "$W/shallow.ozx" "$MNT"
time_find "$nodes"
t_shallow=$SECS
ok "find: $nodes paths in $t_shallow ms"
unmount_ozx "$MNT"

check "find over the deep tree costs at most 5 times the shallow one (linear in nodes)"
[ -n "${OZXFS_WRAPPER:-}" ] || [ "$t_deep" -le $((5 * t_shallow + 1000)) ] ||
	fail "deep $t_deep ms, shallow $t_shallow ms"
ok "deep $t_deep ms, shallow $t_shallow ms"
echo "PASS: $TEST_NAME"
