#!/usr/bin/env python3
"""Time from starting a process to its first request, against a fake DLI.

A thread listens on 127.0.0.1:0 and answers every request with a ShowSqlJobProgress body saying
the job it names is FINISHED (so a waiter exits at once). For each run: t0 = time.monotonic() right before Popen,
t1 = time.monotonic() when the first bytes of the first request arrive; t1 - t0 is recorded.

  first_request.py --runs 20 --label dli-wait -- target/release/dli-wait --endpoint {endpoint} JOB
  first_request.py --runs 20 --label sdk -- python bench/sdk_poller.py --endpoint {endpoint} JOB

`{endpoint}` in the command is replaced by http://127.0.0.1:PORT. The child inherits the
environment (put HUAWEICLOUD_SDK_* there); its output is discarded. Prints one JSON line:
{"label", "runs", "median_ms", "p90_ms", "min_ms", "max_ms", "samples_ms"}.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

def reply(head):
    """A FINISHED answer about the job the request names (a waiter refuses an answer about
    another job)."""
    path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b""
    parts = path.split(b"?")[0].split(b"/")
    job = parts[parts.index(b"jobs") + 1].decode("ascii", "replace") if b"jobs" in parts[:-1] else ""
    body = json.dumps({
        "is_success": True, "message": "", "job_id": job, "status": "FINISHED", "sub_jobs": [],
    }).encode()
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % len(body)) + body


class FakeDli:
    """Serves forever on its own thread; `first` is set (once per arm()) at the first byte."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.first = None
        self.got = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def arm(self):
        with self.lock:
            self.first = None
            self.got.clear()

    def serve(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn):
        with conn:
            data = conn.recv(65536)
            t = time.monotonic()
            with self.lock:
                if self.first is None and data:
                    self.first = t
                    self.got.set()
            # Read the rest of the head (a request never has a body here), then answer.
            while data and b"\r\n\r\n" not in data:
                more = conn.recv(65536)
                if not more:
                    break
                data += more
            try:
                conn.sendall(reply(data))
            except OSError:
                pass


def percentile(xs, p):
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--label", default="process")
    ap.add_argument("--timeout", type=float, default=30.0, help="per run, seconds")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("give the command after --")
    fake = FakeDli()
    endpoint = "http://127.0.0.1:%d" % fake.port
    cmd = [c.replace("{endpoint}", endpoint) for c in cmd]
    env = dict(os.environ, NO_PROXY="127.0.0.1,localhost,::1", no_proxy="127.0.0.1,localhost,::1")
    samples = []
    for i in range(a.runs):
        fake.arm()
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not fake.got.wait(a.timeout):
            p.kill()
            print("error: run %d: no request within %ss" % (i + 1, a.timeout), file=sys.stderr)
            return 1
        rc = p.wait(a.timeout)
        if rc != 0:
            print("error: run %d: %s exited %d (expected 0 after FINISHED)" % (i + 1, cmd[0], rc),
                  file=sys.stderr)
            return 1
        samples.append((fake.first - t0) * 1000.0)
    print(json.dumps({
        "label": a.label, "runs": len(samples),
        "median_ms": round(statistics.median(samples), 2),
        "p90_ms": round(percentile(samples, 90), 2),
        "min_ms": round(min(samples), 2), "max_ms": round(max(samples), 2),
        "samples_ms": [round(s, 2) for s in samples],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
