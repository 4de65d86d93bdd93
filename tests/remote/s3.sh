#!/usr/bin/env bash
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
# s3.sh - s3://BUCKET/KEY mounts against s3srv.py, a local S3 GetObject
# that checks Signature V4 with botocore's signer: signed with keys from
# the environment, from a profile of a credentials file, with a session
# token; a wrong secret refused at mount (status 5, a clear error); a
# public object read with -o anonymous.  No secret in the log, ps,
# /proc/mounts or the user.ozx.* attributes.

. "$(dirname "$0")/../mount/lib.sh"
. "$(dirname "$0")/lib.sh"
require_mount
"$PY" -c 'import botocore.auth' 2>/dev/null ||
	skip "botocore is missing for $PY (Debian: apt-get install python3-botocore)"

SRC=$W/src
WWW=$W/www
MNT=$W/mnt
LOC=$W/loc
mkdir -p "$SRC/0/c/0" "$WWW/bkt/dir" "$WWW/public" || fail mkdir
check "building an archive, served as s3://bkt/dir/a.ozx and s3://public/p.ozx"
printf '{"zarr_format":3,"node_type":"group"}\n' >"$SRC/zarr.json"
for i in 0 1 2 3; do
	head -c $((i * 100000 + 7)) /dev/urandom >"$SRC/0/c/0/$i" || fail urandom
done
make_ozx "$SRC" "$WWW/bkt/dir/a.ozx" deflate
cp "$WWW/bkt/dir/a.ozx" "$WWW/public/p.ozx" || fail cp
ok

KEY=AKIDOZXFSTEST
SECRET=ozxfs-s3cr3t-$RANDOM$RANDOM
TOKEN=ozxfs-t0ken-$RANDOM$RANDOM
export S3SRV_KEY=$KEY S3SRV_SECRET=$SECRET S3SRV_REGION=eu-west-3 S3SRV_TOKEN=$TOKEN
start_pysrv s3srv.py "$WWW"
unset S3SRV_KEY S3SRV_SECRET S3SRV_REGION S3SRV_TOKEN
export AWS_ENDPOINT_URL=$SRV_URL AWS_REGION=eu-west-3
unset AWS_PROFILE AWS_DEFAULT_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
export AWS_SHARED_CREDENTIALS_FILE=$W/none
ok "s3srv.py on $SRV_URL"

# no_secret FILE...: neither the secret nor the token appears.
no_secret()
{
	! grep -q -e "$SECRET" -e "$TOKEN" "$@" ||
		fail "a secret appears in $*"
}

mount_ozx "$WWW/bkt/dir/a.ozx" "$LOC"

check "signed (keys and token from the environment): the mount equals the local one"
AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET AWS_SESSION_TOKEN=$TOKEN \
	mount_ozx s3://bkt/dir/a.ozx "$MNT"
cmp_trees "$LOC" "$MNT"
pid=${OZX_PID_OF[$MNT]}
tr '\0' ' ' <"/proc/$pid/cmdline" >"$W/cmdline"
grep "$MNT" /proc/mounts >"$W/mounts"
grep -q "^s3://bkt/dir/a.ozx $MNT " "$W/mounts" || fail "the mount's source is not s3://bkt/dir/a.ozx"
getfattr -d -m 'user\.ozx' -R "$MNT" >"$W/xattrs" 2>/dev/null ||
	echo "getfattr is missing or failed: attributes not looked at"
no_secret "$W/cmdline" "$W/mounts" "$W/xattrs" "$LOG"
ok "no secret in ps, /proc/mounts, the attributes, the log"
unmount_ozx "$MNT"

check "a wrong secret: refused at mount, status 5, one clear line without the secret"
AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=wrong-$SECRET AWS_SESSION_TOKEN=$TOKEN \
	"$OZXFS" -f s3://bkt/dir/a.ozx "$MNT" 2>"$W/err"
rc=$?
cat "$W/err"
[ "$rc" -eq 5 ] || fail "exit status $rc, want 5"
[ "$(wc -l <"$W/err")" -eq 1 ] || fail "want one line"
grep -q "'s3://bkt/dir/a.ozx'.*HTTP 403" "$W/err" || fail "the error does not say 403 for the URL"
no_secret "$W/err"
grep -q SignatureDoesNotMatch "$W/s3srv.py.log" || fail "the server did not refuse the signature"
ok

check "a token missing where the server wants one: refused too"
AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET \
	"$OZXFS" -f s3://bkt/dir/a.ozx "$MNT" 2>"$W/err"
rc=$?
[ "$rc" -eq 5 ] || { cat "$W/err"; fail "exit status $rc, want 5"; }
ok

check "keys from a profile of the credentials file (AWS_PROFILE), hostile lines around them"
{
	printf '[default]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n'
	printf '\x01\x02 junk = \x7f\n[unclosed\n; a comment\n'
	printf '[ozx]\n  aws_access_key_id=%s\naws_secret_access_key =  %s  \r\n' "$KEY" "$SECRET"
	printf 'aws_session_token = %s\n' "$TOKEN"
} >"$W/credentials"
AWS_SHARED_CREDENTIALS_FILE=$W/credentials AWS_PROFILE=ozx \
	mount_ozx s3://bkt/dir/a.ozx "$MNT"
cmp "$LOC/0/c/0/3" "$MNT/0/c/0/3" || fail "differs"
unmount_ozx "$MNT"
check "the default profile's wrong keys: refused"
AWS_SHARED_CREDENTIALS_FILE=$W/credentials "$OZXFS" -f s3://bkt/dir/a.ozx "$MNT" 2>"$W/err"
rc=$?
[ "$rc" -eq 5 ] || { cat "$W/err"; fail "exit status $rc, want 5"; }
ok

check "no credentials at all: a clear error naming what to set"
"$OZXFS" -f s3://bkt/dir/a.ozx "$MNT" 2>"$W/err"
rc=$?
cat "$W/err"
[ "$rc" -eq 2 ] || fail "exit status $rc, want 2"
grep -q "AWS_ACCESS_KEY_ID" "$W/err" || fail "the error does not say what to set"
ok

check "-o anonymous: a public object mounts, a private one is refused"
mount_ozx s3://public/p.ozx "$MNT" -o anonymous
cmp_trees "$LOC" "$MNT"
unmount_ozx "$MNT"
"$OZXFS" -f -o anonymous s3://bkt/dir/a.ozx "$MNT" 2>"$W/err"
rc=$?
[ "$rc" -eq 5 ] || { cat "$W/err"; fail "exit status $rc, want 5"; }
ok

check "ozx ls and ozx check --anonymous: a public object, no credentials"
"$OZX" ls "$WWW/public/p.ozx" >"$W/ls.file" || fail "ozx ls of the file"
"$OZX" ls s3://public/p.ozx >/dev/null 2>"$W/err" &&
	fail "ozx ls without credentials nor --anonymous succeeded"
grep -q AWS_ACCESS_KEY_ID "$W/err" || { cat "$W/err"; fail "the error does not say what to set"; }
"$OZX" ls --anonymous s3://public/p.ozx >"$W/ls.pub" || fail "ozx ls --anonymous failed"
cmp "$W/ls.file" "$W/ls.pub" || fail "ozx ls --anonymous differs from ozx ls of the file"
"$OZX" check -q --anonymous s3://public/p.ozx >"$W/check.pub" 2>&1
rc=$?
[ "$rc" -le 1 ] || { cat "$W/check.pub"; fail "ozx check --anonymous: status $rc"; }
ok "ls identical to the file's, check status $rc"

check "ozx ls of a signed s3:// URL"
AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET AWS_SESSION_TOKEN=$TOKEN \
	"$OZX" ls s3://bkt/dir/a.ozx >"$W/ls" || fail "ozx ls failed"
[ "$(wc -l <"$W/ls")" -eq 5 ] || { cat "$W/ls"; fail "want 5 lines"; }
ok

unmount_ozx "$LOC"
echo "PASS: $TEST_NAME"
