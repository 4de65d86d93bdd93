# node.sh - sourced by the zarrita tests after ../mount/lib.sh: node and
# the pinned npm packages of tests/package-lock.json.
#
# setup_node DIR: skip without node/npm; install the locked packages (npm
# ci) into a cache directory keyed by the hash of package.json and
# package-lock.json (OZXFS_NPM_CACHE, default /tmp/ozxfs-npm-cache), never
# into the source tree (read-only under make distcheck); then make DIR a
# place to run the test's .mjs scripts from: copies of them next to a
# node_modules symlink into the cache.  Parallel tests race safely: each
# installs into its own temporary directory and renames it into place.

setup_node()
{
	local dir=$1 major hash base cache tmp f
	command -v node >/dev/null ||
		skip "node is missing (Debian: apt-get install nodejs npm)"
	command -v npm >/dev/null ||
		skip "npm is missing (Debian: apt-get install npm)"
	major=$(node -p 'process.versions.node.split(".")[0]') ||
		skip "node does not run"
	[ "$major" -ge 18 ] ||
		skip "node $(node --version) is too old for zarrita (18 or later)"
	if [ ! -f "$TESTSRC/package.json" ] || [ ! -f "$TESTSRC/package-lock.json" ]; then
		fail "no package.json and package-lock.json in $TESTSRC"
	fi
	hash=$(cat "$TESTSRC/package.json" "$TESTSRC/package-lock.json" |
		sha256sum | cut -c1-16)
	base=${OZXFS_NPM_CACHE:-/tmp/ozxfs-npm-cache}
	cache=$base/$hash
	if [ ! -f "$cache/.ozxfs-ok" ]; then
		check "npm ci of tests/package-lock.json into $cache"
		mkdir -p -- "$base" || fail "cannot create $base"
		tmp=$(mktemp -d "$base/tmp.XXXXXX") || fail "mktemp in $base"
		cp -- "$TESTSRC/package.json" "$TESTSRC/package-lock.json" "$tmp/"
		if ! (cd "$tmp" && npm ci --no-audit --no-fund --prefer-offline \
			--loglevel=error) >"$W/npm.log" 2>&1; then
			tail -n 20 "$W/npm.log"
			rm -rf -- "$tmp"
			skip "npm ci of tests/package-lock.json failed (no registry access?): $(grep -m1 -i 'err' "$W/npm.log")"
		fi
		touch "$tmp/.ozxfs-ok"
		# Another test may have won the race: then keep its copy.
		mv -T -- "$tmp" "$cache" 2>/dev/null || rm -rf -- "$tmp"
		[ -f "$cache/.ozxfs-ok" ] || fail "npm cache $cache is incomplete"
		ok "installed"
	fi
	mkdir -p -- "$dir" || fail "mkdir $dir"
	ln -sfn -- "$cache/node_modules" "$dir/node_modules"
	for f in "$(dirname "${BASH_SOURCE[0]}")"/*.mjs; do
		cp -- "$f" "$dir/" || fail "cp $f"
	done
	check "zarrita from the lock file"
	(cd "$dir" && node -e 'import("zarrita").then(() => {})') ||
		fail "zarrita does not load from $cache"
	ok "node $(node --version), zarrita $(node -p "require('$cache/node_modules/zarrita/package.json').version"), numcodecs.js $(node -p "require('$cache/node_modules/numcodecs/package.json').version")"
}
