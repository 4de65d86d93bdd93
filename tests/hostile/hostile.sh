#!/usr/bin/env bash
# hostile.sh - malformed and hostile archives end to end through the daemon.
#
# mkhostile.py writes one archive per defect and a manifest of what the
# daemon must do with each (see its header); this script asserts it all:
#   refuse  exit status 3 at once, one line "ozxfs: 'PATH' is not a usable
#           archive: MESSAGE (at offset N)", nothing mounted
#   mount   bad entries answer EIO on two reads (no byte served before the
#           error where the manifest says so) and are logged once by name
#           with the reason; good entries cmp-equal; harmless-made entries
#           have the stated type and mode; unsafe names are absent, warned
#           about at start-up, and `find` shows exactly the expected tree
#           with no mode but 0444 files and 0555 directories
# Refusals need no mount and run even where FUSE cannot (then the test
# still ends in SKIP, saying so).  Every read is under `timeout 30`: a
# hostile archive must never hang the daemon.

HERE=$(cd "$(dirname "$0")" && pwd) || exit 1
# shellcheck source=../mount/lib.sh
. "${TESTSRC:-$HERE/..}/mount/lib.sh"

[ -x "$PY" ] || skip "$PY is missing"
[ -n "${OZXFS:-}" ] || fail "OZXFS is not set (path of the ozxfs daemon)"
[ -x "$OZXFS" ] || fail "daemon '$OZXFS' is missing or not executable"
command -v timeout >/dev/null || skip "timeout(1) is missing"

GEN=${TESTSRC:-$HERE/..}/hostile/mkhostile.py
HZ=$W/hostile
MNT=$W/mnt
RMNT=$W/rmnt
EIO="Input/output error"
T=30	# seconds any single command may take

check "generating the hostile archives"
mkdir -p "$HZ" "$MNT" "$RMNT" || fail mkdir
"$PY" "$GEN" "$HZ" || fail "mkhostile.py failed"
mapfile -t LINES <"$HZ/manifest.tsv" || fail "no manifest"
ok "${#LINES[@]} manifest lines"

# A daemon that is able to mount at all?  (Refusals come before the mount
# point and /dev/fuse are even looked at.)
if why_no_mount=$(require_mount); then
	CAN_MOUNT=1
else
	rc=$?
	[ "$rc" -eq 77 ] || fail "require_mount: $why_no_mount"
	CAN_MOUNT=0
fi

# A claim that does not hold is reported and counted, and the test goes
# on, so that one run lists every case the daemon gets wrong; the test
# fails at the end.  (Hangs and broken set-ups still fail at once.)
declare -a FAILED=()
CTX=	# the mount the claims are about
bad()
{
	echo "FAIL: $TEST_NAME: ${CTX:+$CTX: }$*" >&2
	FAILED+=("${CTX:+$CTX: }$*")
}

# mpath PATH: PATH in the mount, absolute unless that would exceed PATH_MAX
# (a 4095-byte name); then relative, for commands run by at_mnt.
mpath()
{
	if [ $((${#MNT} + 1 + ${#1})) -lt 4096 ]; then
		REPLY=$MNT/$1
	else
		REPLY=$1
	fi
}

# at_mnt CMD...: run CMD in the mount point (relative paths).
at_mnt()
{
	(cd -- "$MNT" && "$@")
}

# on_path CMD...: run CMD on the path mpath left in REPLY (in the mount
# point only when REPLY is relative: one fork less for the usual case).
on_path()
{
	case $REPLY in
	/*) "$@" ;;
	*) at_mnt "$@" ;;
	esac
}

# refuse FILE MESSAGE WHAT: the daemon (not in the foreground: were it to
# mount, it would return 0 at once) exits with status 3 and one line.
NREFUSED=0
refuse()
{
	local file=$1 msg=$2 what=$3 a=$HZ/$1 rc line want rest
	local -a err
	check "refuse $file ($what): exit 3, '$msg'"
	# shellcheck disable=SC2086
	timeout -k 5 "$T" ${OZXFS_WRAPPER:-} "$OZXFS" "$a" "$RMNT" \
		>"$W/refuse.out" 2>"$W/refuse.err"
	rc=$?
	if [ "$rc" -eq 0 ] || { [ "$rc" -ne 3 ] && is_mounted "$RMNT"; }; then
		fusermount3 -u -- "$RMNT" ||
			fail "$file: mounted, and fusermount3 -u '$RMNT' failed"
		bad "$file: mounted (exit status $rc), but it must be refused with '$msg'"
		return
	fi
	[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] ||
		fail "$file: the daemon still ran after $T s (a hang?)"
	mapfile -t err <"$W/refuse.err"
	if [[ "${OZXFS_WRAPPER:-}" == *valgrind* ]]; then
		check_log "$W/refuse.err"
		mapfile -t err < <(grep -Ev '^==[0-9]+==' "$W/refuse.err")
	fi
	[ "$rc" -eq 3 ] && [ "${#err[@]}" -eq 1 ] || {
		cat "$W/refuse.err" >&2
		bad "$file: exit status $rc and ${#err[@]} lines on stderr, want 3 and one line"
		return
	}
	line=${err[0]}
	want="ozxfs: '$a' is not a usable archive: $msg (at offset "
	rest=${line#"$want"}
	[[ "$line" == "$want"* && "$rest" =~ ^[0-9]+\)$ ]] ||
		{ bad "$file: said '$line', want '$want<N>)'"; return; }
	[ ! -s "$W/refuse.out" ] ||
		{ bad "$file: the daemon wrote to standard output"; return; }
	ok "${line#"ozxfs: '$a' "}"
	NREFUSED=$((NREFUSED + 1))
}

# read_eio PATH NOBYTES: two whole reads fail with EIO (the verdict
# sticks); with NOBYTES=nobytes, not one byte comes out first.  (Reads of
# ranges of a corrupt entry are tests/mount/corrupt.sh's.)
read_eio()
{
	local p=$1 nobytes=$2 i rc msg=
	mpath "$p"
	for i in 1 2; do
		on_path timeout "$T" cat -- "$REPLY" >"$W/out" 2>"$W/err"
		rc=$?
		IFS= read -r msg <"$W/err"
		[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] ||
			fail "reading '$p' (try $i) took more than $T s (a hang?)"
		[ "$rc" -ne 0 ] && [[ "$msg" == *"$EIO"* ]] || {
			bad "reading '$p' (try $i): exit $rc, '$msg', want '$EIO'"
			return 1
		}
		if [ "$nobytes" = nobytes ] && [ -s "$W/out" ]; then
			bad "reading '$p' (try $i): bytes served before the error, want none"
			return 1
		fi
	done
}

# stat_batch FORMAT STEP WORDS...: one stat of every STEP-th word (the
# first, then STEP on), results in STATS[PATH].
declare -A STATS=()
stat_batch()
{
	local fmt=$1 step=$2 k p v
	local -a paths=()
	shift 2
	local -a a=("$@")
	for ((k = 0; k < ${#a[@]}; k += step)); do
		paths+=("${a[k]}")
	done
	STATS=()
	at_mnt timeout "$T" stat -c "%n"$'\t'"$fmt" -- "${paths[@]}" >"$W/stat.out" 2>/dev/null
	[ "$?" -ne 124 ] || fail "stat took more than $T s (a hang?)"
	while IFS=$'\t' read -r p v; do
		STATS[$p]=$v
	done <"$W/stat.out"
}

# The log of one mount, read once; claims are matched in the shell.
declare -a LOGL=()

# logged_once PREFIX MID ENDS: exactly one log line contains PREFIX, and
# it ends in MID followed by one of the |-separated ENDS.
logged_once()
{
	local pre=$1 mid=$2 ends=$3 l n=0 found=0 e
	local -a s
	IFS='|' read -ra s <<<"$ends"
	for l in "${LOGL[@]}"; do
		[[ "$l" == *"$pre"* ]] || continue
		n=$((n + 1))
		for e in "${s[@]}"; do
			[[ "$l" == *"$mid$e" ]] && found=1
		done
	done
	[ "$n" -eq 1 ] && [ "$found" -eq 1 ] ||
		bad "log: want one line with \"$pre\" ending in \"$mid$ends\", found $n"
}

# count_lines SUBSTRING: how many log lines contain it (in REPLY).
count_lines()
{
	local l
	REPLY=0
	for l in "${LOGL[@]}"; do
		[[ "$l" == *"$1"* ]] && REPLY=$((REPLY + 1))
	done
}

# The manifest's mount groups, one mount each.  Claims are gathered
# first, then checked: reads one by one, stats in batches, the log after
# the unmount.
run_mount_group()
{
	local i=$1 kind a b c file opts what log got k
	local -a o=() good=() eio=() types=() mtimes=() absent=() \
		hidden=() logs=() want=()
	local listing=
	IFS=$'\t' read -r kind file opts what <<<"${LINES[$i]}"
	[ "$opts" = - ] || read -ra o <<<"$opts"
	for ((i = i + 1; i < ${#LINES[@]}; i++)); do
		IFS=$'\t' read -r kind a b c <<<"${LINES[$i]}"
		case $kind in
		good) good+=("$a" "$b") ;;
		eio) eio+=("$a" "$b" "$c") ;;
		type) types+=("$a" "$b $c") ;;
		mtime) mtimes+=("$a" "$b" "$c") ;;
		absent) absent+=("$a") ;;
		hidden) hidden+=("$a" "$b") ;;
		log) logs+=("$a" "$b") ;;
		listing) listing=$a ;;
		end) break ;;
		*) fail "manifest line $i: unknown kind '$kind'" ;;
		esac
	done
	NEXT=$i

	CTX="$file${o[*]:+ (${o[*]})}"
	check "=== $CTX: $what ==="
	mount_ozx "$HZ/$file" "$MNT" ${o[@]+"${o[@]}"}
	log=$LOG

	check "$((${#eio[@]} / 3)) bad entries: EIO on every read, twice"
	local nf=${#FAILED[@]}
	local -a noeio=()
	for ((k = 0; k < ${#eio[@]}; k += 3)); do
		read_eio "${eio[k]}" "${eio[k + 2]}" || noeio+=("${eio[k]}")
	done
	ok "$(($((${#eio[@]} / 3)) - ${#noeio[@]})) gave EIO throughout"

	check "$((${#good[@]} / 2)) good entries read back byte-exact (after the bad ones)"
	for ((k = 0; k < ${#good[@]}; k += 2)); do
		mpath "${good[k]}"
		on_path timeout "$T" cmp -- "$REPLY" "$HZ/${good[k + 1]}"
		case $? in
		0) ;;
		124 | 137) fail "reading '${good[k]}' took more than $T s (a hang?)" ;;
		*) bad "'${good[k]}' does not read back as stored" ;;
		esac
	done
	ok "done"

	if [ "${#types[@]}" -gt 0 ]; then
		check "$((${#types[@]} / 2)) entries have the stated type and mode (stat -c '%F %a')"
		stat_batch '%F %a' 2 "${types[@]}"
		for ((k = 0; k < ${#types[@]}; k += 2)); do
			[ "${STATS[${types[k]}]:-}" = "${types[k + 1]}" ] ||
				bad "'${types[k]}' is '${STATS[${types[k]}]:-(no stat)}', want '${types[k + 1]}'"
		done
		ok "done"
	fi

	if [ "${#mtimes[@]}" -gt 0 ]; then
		check "$((${#mtimes[@]} / 3)) absurd timestamps are clamped (stat -c %Y works and is in range)"
		stat_batch '%Y' 3 "${mtimes[@]}"
		for ((k = 0; k < ${#mtimes[@]}; k += 3)); do
			got=${STATS[${mtimes[k]}]:-}
			[ -n "$got" ] && [ "$got" -ge "${mtimes[k + 1]}" ] &&
				[ "$got" -le "${mtimes[k + 2]}" ] ||
				bad "'${mtimes[k]}' has mtime '${got:-(no stat)}', want ${mtimes[k + 1]}..${mtimes[k + 2]}"
		done
		ok "done"
	fi

	if [ "${#absent[@]}" -gt 0 ]; then
		check "${#absent[@]} names that must not exist do not (twice: the negative entry is cached)"
		for k in 1 2; do
			at_mnt timeout "$T" stat -c '%n' -- "${absent[@]}" >"$W/out" 2>"$W/err"
			[ "$?" -ne 124 ] || fail "stat took more than $T s (a hang?)"
			[ ! -s "$W/out" ] || bad "these exist, but must not: $(tr '\n' ' ' <"$W/out")"
			mapfile -t got <"$W/err"
			[ "${#got[@]}" -eq "${#absent[@]}" ] ||
				bad "stat of the absent names said: ${got[*]}"
		done
		ok "done"
	fi

	check "find shows exactly the expected tree"
	at_mnt timeout "$T" find . -mindepth 1 -printf '%y %P\n' >"$W/list.raw" ||
		fail "find in '$MNT' failed"
	LC_ALL=C sort "$W/list.raw" >"$W/list.got"
	if ! diff -u "$HZ/$listing" "$W/list.got" >"$W/list.diff"; then
		head -n 40 "$W/list.diff" >&2
		bad "the tree of $file differs from the expected one"
	fi
	ok "$(wc -l <"$W/list.got") paths"
	check "nothing but regular 0444 files and 0555 directories"
	at_mnt timeout "$T" find . -mindepth 1 \( \( -type f ! -perm 0444 \) -o \
		\( -type d ! -perm 0555 \) -o \( ! -type f ! -type d \) \) \
		-printf '%M %P\n' >"$W/modes" || fail "find in '$MNT' failed"
	[ ! -s "$W/modes" ] || { head "$W/modes" >&2; bad "unexpected types or modes in $file"; }
	ok "none other"

	unmount_ozx "$MNT"

	check "the log names each bad entry once with its reason, and each hidden name"
	mapfile -t LOGL <"$log"
	for ((k = 0; k < ${#eio[@]}; k += 3)); do
		logged_once "entry '${eio[k]}' in '" "' is unusable: " "${eio[k + 1]}"
	done
	count_lines "' is unusable: "
	[ "$REPLY" -eq $((${#eio[@]} / 3)) ] ||
		bad "log of $file: $REPLY 'unusable' lines, want $((${#eio[@]} / 3))"
	for ((k = 0; k < ${#hidden[@]}; k += 2)); do
		logged_once "entry '${hidden[k]}' in '" "' is hidden: " "${hidden[k + 1]}"
	done
	for ((k = 0; k < ${#logs[@]}; k += 2)); do
		count_lines "${logs[k + 1]}"
		[ "$REPLY" -eq "${logs[k]}" ] ||
			bad "log of $file: $REPLY lines contain \"${logs[k + 1]}\", want ${logs[k]}"
	done
	if [ "${#FAILED[@]}" -eq "$nf" ]; then
		ok "$((${#eio[@]} / 3)) unusable, $((${#hidden[@]} / 2)) hidden by name, $((${#logs[@]} / 2)) counts"
	else
		show_log "$log"
	fi
	CTX=
}

check "=== refusals: the daemon exits with status 3 before mounting ==="
NSKIP=0
for ((i = 0; i < ${#LINES[@]}; i++)); do
	IFS=$'\t' read -r kind a b c <<<"${LINES[$i]}"
	case $kind in
	refuse) refuse "$a" "$b" "$c" ;;
	skip) echo "  skipped: $a: $b"; NSKIP=$((NSKIP + 1)) ;;
	esac
done
ok "$NREFUSED archives refused, $NSKIP cases not buildable here"

if [ "$CAN_MOUNT" -ne 1 ]; then
	[ "${#FAILED[@]}" -eq 0 ] ||
		fail "${#FAILED[@]} refusal claims do not hold (listed above); no mount is possible here for the rest"
	skip "refusals passed ($NREFUSED), but no mount is possible here: ${why_no_mount#"SKIP: $TEST_NAME: "}"
fi

NMOUNTS=0
for ((i = 0; i < ${#LINES[@]}; i++)); do
	case ${LINES[$i]} in
	mount$'\t'*)
		run_mount_group "$i"
		i=$NEXT
		NMOUNTS=$((NMOUNTS + 1))
		;;
	esac
done
ok "$NMOUNTS mounts"

if [ "${#FAILED[@]}" -gt 0 ]; then
	echo "---- ${#FAILED[@]} claims do not hold ----" >&2
	printf '  %s\n' "${FAILED[@]}" >&2
	fail "${#FAILED[@]} claims about hostile archives do not hold (listed above)"
fi
echo "PASS: $TEST_NAME"
