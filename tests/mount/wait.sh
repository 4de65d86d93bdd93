# wait.sh - wait_until, the one polling loop of the tests and the scripts
# (sourced by tests/mount/lib.sh and by scripts/bench*): wait for a
# condition with a timeout, never for a fixed time.

# wait_until SECONDS CMD...: run CMD every 0.05 s until it succeeds; 1 if
# it still fails after SECONDS.
wait_until()
{
	local n=$(($1 * 20))
	shift
	until "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.05
	done
	return 0
}
