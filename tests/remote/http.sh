#!/usr/bin/env bash
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
# http.sh - archives served by nginx (range requests, on 127.0.0.1),
# mounted by URL: every fixture reads back byte-identical to its local
# mount (find | sort equal, cmp of every file), the requests an open takes
# are counted from nginx's access log, and ozx ls / ozx check take URLs.

. "$(dirname "$0")/../mount/lib.sh"
. "$(dirname "$0")/lib.sh"
require_mount

OZX=${OZX:-${BUILDDIR:+$BUILDDIR/fs/ozx}}
WWW=$W/www
mkdir -p "$WWW" || fail mkdir

check "building fixtures: a urandom tree (spaces, nested zarr.json) STORED, DEFLATE, ZIP64, zip -r; 100,000 entries (scripts/mkbig)"
SRC=$W/src
mkdir -p "$SRC/0/c/0" "$SRC/1/c/0/0" "$SRC/dir with spaces" || fail mkdir
printf '{"zarr_format":3,"node_type":"group"}\n' >"$SRC/zarr.json"
printf '{"zarr_format":3,"node_type":"array"}\n' >"$SRC/0/zarr.json"
printf '{"zarr_format":3,"node_type":"array"}\n' >"$SRC/1/zarr.json"
for i in 0 1 2 3 4 5 6 7; do
	head -c $((i * 70001 + 3)) /dev/urandom >"$SRC/0/c/0/$i" || fail urandom
done
head -c 3000000 /dev/urandom >"$SRC/1/c/0/0/big" || fail urandom
seq 1 100000 >"$SRC/dir with spaces/a b.txt"
make_ozx "$SRC" "$WWW/stored.ozx" stored
make_ozx "$SRC" "$WWW/deflate.ozx" deflate
make_ozx "$SRC" "$WWW/zip64.ozx" zip64
make_ozx "$SRC" "$WWW/zip.ozx" zip
"$PY" "$TESTSRC/../scripts/mkbig" "$WWW/big.ozx" 100000 >/dev/null ||
	fail "scripts/mkbig failed"
ok "$(ls "$WWW" | wc -l) archives"

start_nginx "$WWW"

# mount_both NAME [OPTIONS]: the local and the URL mount of NAME, compared.
mount_both()
{
	local name=$1 loc=$W/loc-$1 rem=$W/rem-$1
	shift
	mount_ozx "$WWW/$name.ozx" "$loc" "$@"
	mount_ozx "$NGX_URL/$name.ozx" "$rem" "$@"
	check "$name: the URL mount against the local mount"
	cmp_trees "$loc" "$rem"
	unmount_ozx "$rem"
	unmount_ozx "$loc"
}

mount_both stored
mount_both deflate
mount_both zip64
mount_both zip
mount_both stored -o fd_per_open,cache_size=1M
mount_both deflate -o verify=none

check "the source tree against a URL mount (not only local against URL)"
mount_ozx "$NGX_URL/stored.ozx" "$W/mnt"
cmp_trees "$SRC" "$W/mnt"
grep -q "$NGX_URL/stored.ozx $W/mnt fuse.ozxfs" /proc/mounts ||
	fail "the URL is not the mount's source in /proc/mounts"
unmount_ozx "$W/mnt"

# count_open NAME MAX: the requests of a mount and a find, at most MAX.
count_open()
{
	local name=$1 max=$2 before after
	before=$(ngx_requests)
	mount_ozx "$NGX_URL/$name.ozx" "$W/cnt"
	find "$W/cnt" >/dev/null || fail "find in the mount of $name"
	after=$(ngx_requests)
	unmount_ozx "$W/cnt"
	echo "requests: $name.ozx ($(stat -c %s "$WWW/$name.ozx") bytes): $((after - before))"
	[ $((after - before)) -le "$max" ] ||
		fail "mounting $name.ozx took $((after - before)) requests, want <= $max"
}
check "requests to mount and list a small archive (<= 2) and a 100,000-entry one (<= 3)"
count_open stored 2
count_open big 3
ok "counted from nginx's access log"

check "a large STORED entry read whole: one request, its local header and bytes together"
mkdir -p "$W/large" || fail mkdir
printf '{"zarr_format":3,"node_type":"group"}\n' >"$W/large/zarr.json"
head -c $((6 << 20)) /dev/urandom >"$W/large/shard" || fail urandom
head -c 1000 /dev/urandom >"$W/large/tail" || fail urandom
make_ozx "$W/large" "$WWW/large.ozx" stored
mount_ozx "$NGX_URL/large.ozx" "$W/lg"
n0=$(ngx_requests)
cmp "$W/large/shard" "$W/lg/shard" || fail "the shard read through the URL mount differs"
n=$(($(ngx_requests) - n0))
unmount_ozx "$W/lg"
[ "$n" -eq 1 ] || fail "reading the 6 MiB entry took $n requests, want 1"
ok "1 request"

check "entries read in archive order: the next one is fetched while this one is read"
mkdir -p "$W/seq/c" || fail mkdir
printf '{"zarr_format":3,"node_type":"group"}\n' >"$W/seq/zarr.json"
head -c $((3 << 20)) /dev/urandom >"$W/seq/c/0" || fail urandom
head -c $((3 << 20)) /dev/urandom >"$W/seq/c/1" || fail urandom
head -c $((2 << 20)) /dev/urandom >"$W/seq/c/2" || fail urandom
make_ozx "$W/seq" "$WWW/seq.ozx" stored
mount_ozx "$NGX_URL/seq.ozx" "$W/sq"
n0=$(ngx_requests)
cmp "$W/seq/c/0" "$W/sq/c/0" || fail "c/0 differs"
cmp "$W/seq/c/1" "$W/sq/c/1" || fail "c/1 differs"
# c/1 followed c/0: its request and one more, for c/2, without a read.
seen_prefetch() { [ "$(ngx_requests)" -ge $((n0 + 3)) ]; }
wait_until 10 seen_prefetch ||
	fail "no request for c/2 within 10 s of reading c/0 and c/1 ($(($(ngx_requests) - n0)) requests)"
n1=$(ngx_requests)
cmp "$W/seq/c/2" "$W/sq/c/2" || fail "c/2 differs"
n=$(($(ngx_requests) - n1))
unmount_ozx "$W/sq"
[ "$n" -eq 0 ] || fail "reading c/2 took $n requests, want 0 (it was fetched ahead)"
ok "c/2 fetched ahead, read with no request"

check "ozx ls and ozx check take a URL"
[ -x "$OZX" ] || fail "ozx tool '$OZX' is missing"
"$OZX" ls "$WWW/stored.ozx" >"$W/ls.loc" || fail "ozx ls of the file"
"$OZX" ls "$NGX_URL/stored.ozx" >"$W/ls.rem" || fail "ozx ls of the URL"
cmp "$W/ls.loc" "$W/ls.rem" || fail "ozx ls differs between file and URL"
"$OZX" check -q "$NGX_URL/deflate.ozx" >"$W/check.out" 2>&1
rc=$?
[ "$rc" -le 1 ] || { cat "$W/check.out"; fail "ozx check of the URL: status $rc"; }
grep -q "$NGX_URL/deflate.ozx" "$W/check.out" || { cat "$W/check.out"; fail "ozx check does not name the URL"; }
ok "ls identical, check status $rc"

check "a missing object: exit status 5 and a one-line error naming the URL without its query"
"$OZXFS" -f "$NGX_URL/nothere.ozx?X-Amz-Signature=s3cr3t" "$W/mnt" 2>"$W/err"
rc=$?
cat "$W/err"
[ "$rc" -eq 5 ] || fail "exit status $rc, want 5"
[ "$(wc -l <"$W/err")" -eq 1 ] || fail "more than one line"
grep -q "'$NGX_URL/nothere.ozx'.*404" "$W/err" || fail "the error does not name the URL and 404"
grep -q s3cr3t "$W/err" && fail "the query string (a secret) was printed"
"$OZX" ls "$NGX_URL/nothere.ozx?sig=s3cr3t" 2>"$W/err"
[ $? -eq 1 ] || fail "ozx ls of a missing URL: want status 1"
grep -q s3cr3t "$W/err" && fail "ozx ls printed the query string"
ok "status 5, no secret"

check "a user name and password in the URL: refused, never sent, never printed"
n0=$(ngx_requests)
"$OZXFS" -f "http://alice:s3cr3t@${NGX_URL#http://}/stored.ozx" "$W/mnt" 2>"$W/err"
rc=$?
cat "$W/err"
[ "$rc" -ne 0 ] || fail "mounted a URL with a password in it"
grep -q s3cr3t "$W/err" && fail "the password was printed"
grep -q "user name or password in the URL" "$W/err" || fail "the error does not say why"
[ "$(ngx_requests)" -eq "$n0" ] || fail "a request was sent"
"$OZX" ls "http://alice:s3cr3t@${NGX_URL#http://}/stored.ozx" 2>"$W/err" &&
	fail "ozx ls took a URL with a password in it"
grep -q s3cr3t "$W/err" && fail "ozx ls printed the password"
ok "status $rc, no request, no secret"

check "a server that refuses connections: exit status 2 after the retries"
"$OZXFS" -f -o retries=1 "http://127.0.0.1:$(free_port)/x.ozx" "$W/mnt" 2>"$W/err"
rc=$?
cat "$W/err"
[ "$rc" -eq 2 ] || fail "exit status $rc, want 2"
ok

if [ -z "$NGX_TLS_URL" ]; then
	echo "openssl is missing: HTTPS left out"
else
	check "HTTPS: a certificate nobody vouches for is refused (status 2, not retried)"
	env -u CURL_CA_BUNDLE -u SSL_CERT_FILE \
		"$OZXFS" -f "$NGX_TLS_URL/stored.ozx" "$W/mnt" 2>"$W/err"
	rc=$?
	cat "$W/err"
	[ "$rc" -eq 2 ] || fail "exit status $rc, want 2"
	grep -qi "certificate" "$W/err" || fail "the error does not name the certificate"
	ok
	check "HTTPS with the certificate trusted (CURL_CA_BUNDLE): the mount equals the local one"
	mount_ozx "$WWW/zip.ozx" "$W/loc"
	CURL_CA_BUNDLE=$NGX_CA mount_ozx "$NGX_TLS_URL/zip.ozx" "$W/mnt"
	cmp_trees "$W/loc" "$W/mnt"
	unmount_ozx "$W/mnt"
	unmount_ozx "$W/loc"
fi

echo "PASS: $TEST_NAME"
