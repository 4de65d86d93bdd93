# lib.sh - helpers of the remote-archive tests, sourced after
# ../mount/lib.sh: servers on 127.0.0.1 that the test starts, bounds and
# stops (cleanup ends them with the daemons).
#
#	start_nginx ROOT	nginx serving ROOT with range support; sets
#				NGX_URL (http://127.0.0.1:PORT) and NGX_LOG
#				(its access log, one line per request); with
#				openssl also NGX_TLS_URL (https://, a new
#				self-signed certificate) and NGX_CA (it)
#	ngx_requests		lines in the access log so far
#	start_faultsrv DIR	tests/remote/faultsrv.py serving DIR; sets
#				FS_URL; fault_set MODE [COUNT] changes faults
#	start_pysrv SCRIPT DIR	another server of tests/remote (s3srv.py)

# A free TCP port on 127.0.0.1 (the kernel's pick; a race with another
# process taking it is possible, and ends in the server's failure to start).
free_port()
{
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL: the server answers (any status) within 10 s.
wait_http()
{
	wait_until 10 "$PY" -c 'import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass' "$1" 2>/dev/null
}

start_nginx()
{
	local root=$1 ngx port tport tls d=$W/nginx
	ngx=$(command -v nginx || echo /usr/sbin/nginx)
	[ -x "$ngx" ] || skip "nginx is missing (Debian: apt-get install nginx-light)"
	mkdir -p "$d/tmp" || fail "mkdir $d"
	port=$(free_port) || fail "no free port"
	# HTTPS too, where openssl can make a certificate for 127.0.0.1.
	tls= NGX_TLS_URL= NGX_CA=
	if command -v openssl >/dev/null &&
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
			-addext subjectAltName=IP:127.0.0.1 -keyout "$d/key.pem" \
			-out "$d/cert.pem" >/dev/null 2>&1; then
		tls=1
		tport=$(free_port) || fail "no free port"
	fi
	# Root's nginx workers drop to nobody, who cannot enter $W (0700):
	# keep them root (the directive is ignored for other users).
	cat >"$d/nginx.conf" <<NGX
$( [ "$(id -u)" -eq 0 ] && echo "user root;" )
daemon off;
worker_processes 2;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 256; }
http {
	access_log $d/access.log;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	keepalive_requests 100000;
	server {
		listen 127.0.0.1:$port;
		root $root;
	}
$( [ -n "$tls" ] && printf '\tserver {\n\t\tlisten 127.0.0.1:%s ssl;\n\t\tssl_certificate %s;\n\t\tssl_certificate_key %s;\n\t\troot %s;\n\t}\n' "$tport" "$d/cert.pem" "$d/key.pem" "$root" )
}
NGX
	"$ngx" -p "$d" -c "$d/nginx.conf" -e "$d/error.log" 2>"$d/stderr" &
	NGX_PID=$!
	OZX_EXTRA_PIDS+=("$NGX_PID")
	track_pid "$NGX_PID"
	NGX_URL=http://127.0.0.1:$port
	NGX_LOG=$d/access.log
	if [ -n "$tls" ]; then
		NGX_TLS_URL=https://127.0.0.1:$tport
		NGX_CA=$d/cert.pem
	fi
	if ! wait_http "$NGX_URL/"; then
		cat "$d/stderr" "$d/error.log" 2>/dev/null | head -n 5 >&2
		skip "nginx did not start on 127.0.0.1:$port"
	fi
	ok "nginx $("$ngx" -v 2>&1 | sed 's/.*\///') on $NGX_URL (pid $NGX_PID)"
}

ngx_requests()
{
	if [ -f "$NGX_LOG" ]; then wc -l <"$NGX_LOG"; else echo 0; fi
}

# start_pysrv SCRIPT DIR: tests/remote/SCRIPT serving DIR on a free port
# (its stderr in $W/SCRIPT.log); sets SRV_URL.
start_pysrv()
{
	local script=$1 dir=$2 port pid
	port=$(free_port) || fail "no free port"
	"$PY" "$(dirname "${BASH_SOURCE[0]}")/$script" "$port" "$dir" \
		2>"$W/$script.log" &
	pid=$!
	OZX_EXTRA_PIDS+=("$pid")
	track_pid "$pid"
	SRV_URL=http://127.0.0.1:$port
	wait_http "$SRV_URL/_ctl?mode=ok" ||
		{ cat "$W/$script.log" >&2; skip "$script did not start"; }
}

start_faultsrv()
{
	start_pysrv faultsrv.py "$1"
	FS_URL=$SRV_URL
}

# fault_set MODE [COUNT]: the next COUNT requests (default: all) fault.
fault_set()
{
	"$PY" -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=5).read()' \
		"$FS_URL/_ctl?mode=$1&count=${2:--1}" ||
		fail "cannot set fault mode $1"
}

# fault_count: requests served since the last fault_set.
fault_count()
{
	"$PY" -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
		"$FS_URL/_ctl"
}
