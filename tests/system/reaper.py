#!/usr/bin/python3
"""reaper.py LOG CMD [ARGS...] - run CMD and report how every process it
leaves behind ends.

A FUSE daemon started by mount(8) (mount -> mount.fuse3 -> sh -> ozxfs, which
forks into the background) is nobody's child that a test could wait for.
This process makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER),
so that such orphans are re-parented to it, runs CMD, and appends to LOG:

    run PID STATUS          when CMD itself ends
    exit PID COMM STATUS    for every other descendant it reaps

STATUS is the exit status, or "signal N".  It returns once it has no
children left, with status 0 (CMD's status is in LOG).
"""
import ctypes
import os
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36


def status_text(status):
    if os.WIFEXITED(status):
        return str(os.WEXITSTATUS(status))
    if os.WIFSIGNALED(status):
        return "signal %d" % os.WTERMSIG(status)
    return "status %d" % status


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: reaper.py LOG CMD [ARGS...]")
    log = open(sys.argv[1], "a", buffering=1)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("reaper.py: prctl(PR_SET_CHILD_SUBREAPER): %s"
                 % os.strerror(ctypes.get_errno()))
    cmd = subprocess.Popen(sys.argv[2:])
    while True:
        try:
            # Look before reaping, so that COMM can still be read.
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT)
        except ChildProcessError:
            return 0
        if info is None:
            continue
        pid = info.si_pid
        try:
            with open("/proc/%d/comm" % pid) as f:
                comm = f.read().strip()
        except OSError:
            comm = "?"
        _, status = os.waitpid(pid, 0)
        if pid == cmd.pid:
            cmd.returncode = status  # keep subprocess from waiting again
            log.write("run %d %s\n" % (pid, status_text(status)))
        else:
            log.write("exit %d %s %s\n" % (pid, comm, status_text(status)))


if __name__ == "__main__":
    sys.exit(main())
