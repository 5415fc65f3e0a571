#!/usr/bin/env python3
"""Write a simulator scenario with N jobs, each LAUNCHING 1 s, then one sub-job of 100 tasks over
60 s, then FINISHED (about 61 s after the simulator starts). Job ids are deterministic:
b0000000-0000-4000-8000-XXXXXXXXXXXX with the job's index (0-based) as 12 decimal digits.

  gen_many_jobs.py 1000 > target/bench/many-1000.json
  gen_many_jobs.py --ids 1000 > ids.txt      # the ids only, one per line
"""
import argparse
import json
import sys


def job_id(i):
    return "b0000000-0000-4000-8000-%012d" % i


def scenario(n):
    return {
        "jobs": [{
            "id": job_id(i),
            "launching": "1s",
            "sub_jobs": [{"tasks": 100, "duration": "60s", "parallelism": 16}],
        } for i in range(n)],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--ids", action="store_true", help="print the ids, one per line")
    a = ap.parse_args()
    if a.ids:
        sys.stdout.write("".join(job_id(i) + "\n" for i in range(a.n)))
    else:
        json.dump(scenario(a.n), sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
