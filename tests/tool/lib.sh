# lib.sh - helpers sourced by the ozx tool tests (tests/tool/*.sh), on top
# of the mount tests' helpers (tests/mount/lib.sh: W, fail, skip, check,
# ok, make_ozx, mount_ozx, cmp_trees, ...).
#
# Environment (make check sets the last three; the defaults suit a run by
# hand from the source tree after an in-tree build):
#	OZX		the ozx tool (default "$BUILDDIR/fs/ozx")
#	OZXFS		the daemon, for the tests that mount
#	TESTSRC		tests/ of the source tree
#	BUILDDIR	the top build directory

_tool_here=$(cd "$(dirname "$0")" && pwd)
: "${TESTSRC:=$(cd "$_tool_here/.." && pwd)}"
: "${BUILDDIR:=$(cd "$_tool_here/../.." && pwd)}"
: "${OZX:=$BUILDDIR/fs/ozx}"
: "${OZXFS:=$BUILDDIR/fs/ozxfs}"
export TESTSRC BUILDDIR OZX OZXFS

# shellcheck source=../mount/lib.sh
. "$TESTSRC/mount/lib.sh"

[ -x "$OZX" ] || fail "ozx '$OZX' is missing or not executable"
[ -x "$PY" ] || skip "$PY is missing"

# ozx_run TAG ARGS...: run "$OZX" ARGS with stdout in $W/TAG.out, stderr
# in $W/TAG.err and the exit status in RC.
ozx_run()
{
	local tag=$1
	shift
	"$OZX" "$@" >"$W/$tag.out" 2>"$W/$tag.err" </dev/null
	RC=$?
	LAST=$tag
}

_show_last()
{
	echo "---- ozx stdout ----" >&2
	head -c 3000 "$W/$LAST.out" >&2
	echo "---- ozx stderr ----" >&2
	head -c 3000 "$W/$LAST.err" >&2
	echo "----" >&2
}

# expect_rc N WHAT: the last ozx_run exited with status N.
expect_rc()
{
	[ "$RC" -eq "$1" ] || { _show_last; fail "$2: exit status $RC, want $1"; }
}

# expect_in out|err TEXT WHAT: the last run's stdout/stderr has TEXT.
expect_in()
{
	grep -qF -- "$2" "$W/$LAST.$1" ||
		{ _show_last; fail "$3: std$1 lacks '$2'"; }
}

# expect_line out|err LINE WHAT: the last run's stdout/stderr has LINE
# as a whole line.
expect_line()
{
	grep -qxF -- "$2" "$W/$LAST.$1" ||
		{ _show_last; fail "$3: std$1 lacks the line '$2'"; }
}

# expect_not_in out|err TEXT WHAT
expect_not_in()
{
	! grep -qF -- "$2" "$W/$LAST.$1" ||
		{ _show_last; fail "$3: std$1 has '$2'"; }
}

# expect_empty out|err WHAT
expect_empty()
{
	[ ! -s "$W/$LAST.$1" ] || { _show_last; fail "$2: std$1 is not empty"; }
}

# make_zarr_tree DIR: a small OME-Zarr 0.5 tree with metadata at several
# depths, names with spaces and UTF-8, empty files and an empty directory.
make_zarr_tree()
{
	local d=$1
	(
		set -e
		mkdir -p "$d"
		cd "$d"
		rnd() { head -c "$2" /dev/urandom >"$1"; }
		printf '{"zarr_format":3,"node_type":"group","attributes":{"ome":{"version":"0.5","multiscales":[]}}}\n' >zarr.json
		mkdir -p img/0/c/0/0 img/1/c/0/0 labels/l1/0 "name with spaces" "é" emptydir x-y x
		printf '{"zarr_format":3,"node_type":"group"}\n' >img/zarr.json
		printf '{"zarr_format":3,"node_type":"array"}\n' >img/0/zarr.json
		printf '{"zarr_format":3,"node_type":"array"}\n' >img/1/zarr.json
		printf '{"zarr_format":3,"node_type":"group"}\n' >labels/zarr.json
		printf '{"zarr_format":3,"node_type":"group"}\n' >labels/l1/zarr.json
		printf '{"zarr_format":3,"node_type":"array"}\n' >labels/l1/0/zarr.json
		rnd img/0/c/0/0/0 1000
		rnd img/0/c/0/0/1 70000
		rnd img/1/c/0/0/0 77
		rnd labels/l1/0/c 4096
		rnd "name with spaces/file with spaces.bin" 5000
		rnd "é/日本.bin" 3000
		rnd x-y/a 10
		rnd x/a 11
		rnd big $((3 * 1048576 + 17))
		: >empty
		: >img/empty
	) || fail "cannot build the tree '$d'"
}
