#!/usr/bin/env python3
"""Parse GNU time's `-v` report (`/usr/bin/time -v -o FILE cmd`) into one JSON line:
{"max_rss_kb", "user_s", "sys_s", "cpu_s", "wall_s", "exit_status", "voluntary_cs", "involuntary_cs"}.

  timev.py target/bench/results/.../dli-wait.time
"""
import json
import re
import sys


def parse(text):
    def field(name, conv=float):
        m = re.search(r"^\s*" + re.escape(name) + r".*?:\s*(\S+)\s*$", text, re.M)
        return conv(m.group(1)) if m else None

    def wall(v):
        s = 0.0
        for part in v.split(":"):
            s = s * 60 + float(part)
        return s

    user, sys_ = field("User time (seconds)"), field("System time (seconds)")
    return {
        "max_rss_kb": field("Maximum resident set size (kbytes)", int),
        "user_s": user,
        "sys_s": sys_,
        "cpu_s": round(user + sys_, 2) if user is not None and sys_ is not None else None,
        "wall_s": field("Elapsed (wall clock) time", wall),
        "exit_status": field("Exit status", int),
        "voluntary_cs": field("Voluntary context switches", int),
        "involuntary_cs": field("Involuntary context switches", int),
    }


if __name__ == "__main__":
    print(json.dumps(parse(open(sys.argv[1]).read())))
