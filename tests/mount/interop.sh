#!/usr/bin/env bash
# interop.sh - archives other ZIP readers read (issues 14 and 15), through
# a real mount and through `ozx check`.
#
# mkinterop.py writes each archive and checks Python's zipfile reads it as
# described (the oracle); this test asserts what ozxfs does with it:
#   accept  the mount shows exactly the source tree (find, sorted) and
#           every file byte for byte; one daemon log line and one `ozx
#           check` warning carry the tolerance (check exits 1: warnings)
#   refuse  the daemon exits with status 3 and one line naming the reason,
#           nothing mounted; `ozx check` reports it as an error (exit 2).
#           The end record hidden in the comment is one: Python lists
#           evil.txt there (and so do unzip and bsdtar, checked where
#           installed, optional), and ozxfs must not show benign.txt.

HERE=$(cd "$(dirname "$0")" && pwd) || exit 1
# shellcheck source=lib.sh
. "${TESTSRC:-$HERE/..}/mount/lib.sh"

[ -x "$PY" ] || skip "$PY is missing"
OZX=${OZX:-${BUILDDIR:-$HERE/../..}/fs/ozx}
[ -x "$OZX" ] || fail "ozx '$OZX' is missing or not executable"
[ -n "${OZXFS:-}" ] || fail "OZXFS is not set (path of the ozxfs daemon)"
command -v timeout >/dev/null || skip "timeout(1) is missing"
require_mount

GEN=${TESTSRC:-$HERE/..}/mount/mkinterop.py
D=$W/interop
MNT=$W/mnt
T=60
mkdir -p "$MNT" || fail "mkdir $MNT"

check "generating the archives; Python's zipfile is the oracle"
"$PY" "$GEN" "$D" || fail "mkinterop.py failed"
mapfile -t CASES <"$D/cases.tsv" || fail "no cases.tsv"
ok "${#CASES[@]} cases"

# same_tree SRC MNT: the same paths (files and directories) and bytes, in
# one process (one case has 65541 files).
same_tree()
{
	"$PY" - "$1" "$2" <<'EOF'
import os, sys

def walk(top):
    out = {}
    for d, dirs, files in os.walk(top):
        rel = os.path.relpath(d, top)
        for x in dirs:
            out[os.path.normpath(os.path.join(rel, x))] = None
        for x in files:
            with open(os.path.join(d, x), "rb") as f:
                out[os.path.normpath(os.path.join(rel, x))] = f.read()
    return out

src, mnt = walk(sys.argv[1]), walk(sys.argv[2])
if sorted(src) != sorted(mnt):
    a, b = set(src), set(mnt)
    print("only in the source: %s" % sorted(a - b)[:10])
    print("only in the mount: %s" % sorted(b - a)[:10])
    sys.exit(1)
bad = [p for p in src if src[p] != mnt[p]]
if bad:
    print("bytes differ: %s" % bad[:10])
    sys.exit(1)
print("%d paths, %d files identical" % (len(src),
      sum(v is not None for v in src.values())))
EOF
}

# lines_with FILE TEXT ENTRY: how many lines of FILE contain TEXT (and
# 'ENTRY', unless ENTRY is -), in REPLY.
lines_with()
{
	local l
	REPLY=0
	while IFS= read -r l; do
		[[ "$l" == *"$2"* ]] || continue
		[ "$3" = - ] || [[ "$l" == *"'$3'"* ]] || continue
		REPLY=$((REPLY + 1))
	done <"$1"
}

for c in "${CASES[@]}"; do
	IFS=$'\t' read -r name kind text entry <<<"$c"
	# INTEROP_ONLY=CASE runs one case (to show each fails on its own)
	[ -z "${INTEROP_ONLY:-}" ] || [ "$name" = "$INTEROP_ONLY" ] || continue
	a=$D/$name.ozx
	if [ "$kind" = refuse ]; then
		# unzip and bsdtar, where installed, see what Python sees
		for r in "unzip -Z1" "bsdtar -tf"; do
			command -v "${r%% *}" >/dev/null || continue
			check "$name: ${r%% *} lists what Python lists (evil.txt)"
			got=$($r "$a" 2>/dev/null | tr '\n' ' ')
			[ "$got" = "evil.txt " ] || fail "$name: ${r%% *} lists '$got'"
			ok "$got"
		done
		check "$name: refused at mount, exit status 3: '$text'"
		timeout -k 5 "$T" "$OZXFS" "$a" "$MNT" >"$W/out" 2>"$W/err"
		rc=$?
		if is_mounted "$MNT"; then
			fusermount3 -u -- "$MNT"
			fail "$name: mounted, but must be refused"
		fi
		[ "$rc" -eq 3 ] || { cat "$W/err" >&2; fail "$name: exit status $rc, want 3"; }
		[ "$(wc -l <"$W/err")" -eq 1 ] ||
			{ cat "$W/err" >&2; fail "$name: want one line on stderr"; }
		want="ozxfs: '$a' is not a usable archive: $text (at offset "
		line=$(cat "$W/err")
		[[ "$line" == "$want"* ]] || fail "$name: said '$line', want '$want<N>)'"
		ok "$line"
		check "$name: ozx check reports the refusal as an error (exit 2)"
		timeout "$T" "$OZX" check -q "$a" >"$W/check" 2>&1
		rc=$?
		[ "$rc" -eq 2 ] || { cat "$W/check" >&2; fail "$name: ozx check exit $rc, want 2"; }
		grep -qF "error: $text" "$W/check" ||
			{ cat "$W/check" >&2; fail "$name: ozx check does not say '$text'"; }
		ok "done"
		continue
	fi

	check "$name: mounted, the tree and bytes are the source's"
	mount_ozx "$a" "$MNT"
	(cd "$D/$name.src" && find . -mindepth 1 | LC_ALL=C sort) >"$W/find.src"
	(cd "$MNT" && timeout "$T" find . -mindepth 1 | LC_ALL=C sort) >"$W/find.mnt" ||
		fail "$name: find in the mount failed"
	diff -u "$W/find.src" "$W/find.mnt" | head -n 20 >&2
	cmp -s "$W/find.src" "$W/find.mnt" || fail "$name: find | sort differs from the source's"
	same_tree "$D/$name.src" "$MNT" || { show_log; fail "$name: the mount differs from the source"; }
	unmount_ozx "$MNT"
	check "$name: one log line says '$text'"
	lines_with "$LOG" "$text" "$entry"
	[ "$REPLY" -eq 1 ] || { show_log; fail "$name: $REPLY log lines with '$text', want 1"; }
	ok "$(grep -F -- "$text" "$LOG")"

	check "$name: ozx check warns the same (exit status 1)"
	timeout "$T" "$OZX" check -q "$a" >"$W/check" 2>&1
	rc=$?
	[ "$rc" -eq 1 ] || { cat "$W/check" >&2; fail "$name: ozx check exit $rc, want 1"; }
	grep '^warning: ' "$W/check" >"$W/check.warn"
	lines_with "$W/check.warn" "${text#: }" "$entry"
	[ "$REPLY" -eq 1 ] || { cat "$W/check" >&2; fail "$name: ozx check does not warn '$text'"; }
	ok "done"
done
echo "PASS: $TEST_NAME"
