#!/usr/bin/env python3
"""Run a command and write its resource usage, from wait4(2) at microsecond resolution, as one
JSON line to -o FILE: {"user_s", "sys_s", "cpu_s", "wall_s", "exit_status"}.
GNU time -v prints CPU seconds with two decimals only (10 ms), too coarse for a process that
sleeps for a minute; wrap it to get both from one run (the figures then include GNU time's own
~1 ms of CPU). No peak RSS here: a child forked from Python starts with Python's RSS as its
high-water mark; take it from GNU time, which forks from its own small process.

  rusage.py -o cpu.json -- /usr/bin/time -v -o time.txt dli-wait ...

The command's stdin, stdout and stderr are passed through; the exit status is the command's.
"""
import json
import os
import subprocess
import sys
import time


def main():
    args = sys.argv[1:]
    if len(args) < 4 or args[0] != "-o" or args[2] != "--":
        print("usage: rusage.py -o FILE -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    out, cmd = args[1], args[3:]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd)
    while True:
        try:
            _, status, ru = os.wait4(p.pid, 0)
            break
        except InterruptedError:
            continue
    wall = time.monotonic() - t0
    code = os.waitstatus_to_exitcode(status)
    code = 128 - code if code < 0 else code
    with open(out, "w") as f:
        json.dump({"user_s": round(ru.ru_utime, 6), "sys_s": round(ru.ru_stime, 6),
                   "cpu_s": round(ru.ru_utime + ru.ru_stime, 6),
                   "wall_s": round(wall, 3), "exit_status": code}, f)
        f.write("\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
