#!/usr/bin/env bash
# install.sh - "make install DESTDIR=STAGE" puts every file in place: the
# programs ozxfs and ozx in bindir, their man pages ozxfs.1 and ozx.1 in
# man1dir; both programs run from there and both pages render with
# "man -l" without a warning; "make uninstall DESTDIR=STAGE" removes every
# file it installed.
#
# This is a recursive make in the build directory that runs "make check":
# it only installs (everything is built by then), into a directory of its
# own, with make check's jobserver kept out of it.

. "$(dirname "$0")/sys.sh"
. "$SYS_DIR/../mount/lib.sh"
[ -n "${BUILDDIR:-}" ] || fail "BUILDDIR is not set (the top build directory)"
[ -f "$BUILDDIR/Makefile" ] || fail "no Makefile in BUILDDIR '$BUILDDIR'"
MAKE=${MAKE:-make}
command -v "$MAKE" >/dev/null || skip "$MAKE is missing"
unset MAKEFLAGS MFLAGS MAKELEVEL GNUMAKEFLAGS

cat >"$W/dirs.mk" <<'EOF'
ozxfs-test-dirs:
	@echo '$(bindir)'
	@echo '$(man1dir)'
	@echo '$(PACKAGE_VERSION)'
EOF
mapfile -t dirs < <("$MAKE" -s -C "$BUILDDIR" -f Makefile -f "$W/dirs.mk" ozxfs-test-dirs)
[ "${#dirs[@]}" -eq 3 ] || fail "cannot read bindir, man1dir and the version from $BUILDDIR/Makefile"
BINDIR=${dirs[0]} MAN1DIR=${dirs[1]} VERSION=${dirs[2]}
echo "note: bindir $BINDIR, man1dir $MAN1DIR, version $VERSION"

STAGE=$W/stage
check "make install DESTDIR=$STAGE"
"$MAKE" -C "$BUILDDIR" install DESTDIR="$STAGE" >"$W/install.log" 2>&1 ||
	{ tail -n 30 "$W/install.log" >&2; fail "make install failed"; }
(cd "$STAGE" && find . \( -type f -o -type l \) | LC_ALL=C sort) >"$W/installed"
sed 's/^/    /' "$W/installed"
for f in "$BINDIR/ozxfs" "$BINDIR/ozx" "$MAN1DIR/ozxfs.1" "$MAN1DIR/ozx.1"; do
	[ -f "$STAGE$f" ] || fail "'$f' was not installed"
done
ok "$(wc -l <"$W/installed") files, among them ozxfs, ozx, ozxfs.1 and ozx.1"

check "the installed programs run"
for p in ozxfs ozx; do
	[ -x "$STAGE$BINDIR/$p" ] || fail "'$BINDIR/$p' is not executable"
	"$STAGE$BINDIR/$p" --version >"$W/out" 2>&1 || { cat "$W/out" >&2; fail "$p --version failed"; }
	grep -qF "$VERSION" "$W/out" || { cat "$W/out" >&2; fail "$p --version does not say $VERSION"; }
	ok "$p --version: $(head -n 1 "$W/out")"
done

check "man -l renders both pages, without warnings"
if command -v man >/dev/null; then
	for p in ozxfs ozx; do
		MANWIDTH=80 man --warnings -l "$STAGE$MAN1DIR/$p.1" \
			>"$W/$p.txt" 2>"$W/$p.err" </dev/null ||
			{ cat "$W/$p.err" >&2; fail "man -l $p.1 failed"; }
		[ ! -s "$W/$p.err" ] || { cat "$W/$p.err" >&2; fail "man -l $p.1 warns"; }
		grep -q '^NAME' "$W/$p.txt" && grep -q "^       $p " "$W/$p.txt" ||
			{ head -n 20 "$W/$p.txt" >&2; fail "$p.1 renders without NAME '$p'"; }
		ok "$p.1: $(wc -l <"$W/$p.txt") lines, $(sed -n '/^NAME/{n;p;q}' "$W/$p.txt" | sed 's/^ *//')"
	done
else
	echo "note: man (man-db) is missing: pages not rendered"
fi

check "make uninstall DESTDIR=$STAGE removes every file"
"$MAKE" -C "$BUILDDIR" uninstall DESTDIR="$STAGE" >"$W/uninstall.log" 2>&1 ||
	{ tail -n 30 "$W/uninstall.log" >&2; fail "make uninstall failed"; }
left=$(cd "$STAGE" && find . \( -type f -o -type l \))
[ -z "$left" ] || fail "left after make uninstall: $left"
ok "no file left"
exit 0
