#!/usr/bin/env python3
"""The baseline dli-wait is measured against: the loop people write with Huawei Cloud's official
Python SDK (huaweicloudsdkdli 3.1.219). It calls ShowSqlJobProgress every --interval seconds until
the job ends or --duration passes, printing one line per poll only with -v.

Credentials come from the same variables dli-wait reads:
  HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID

  sdk_poller.py --endpoint http://127.0.0.1:8090 --interval 2 --duration 60 JOB_ID
  sdk_poller.py --version     # import the SDK and build a client, then exit (start-up cost)

Exit status: 0 FINISHED, 1 FAILED/CANCELLED, 124 --duration passed, 2 bad usage.
"""
import argparse
import os
import sys
import time

# Imported up front, as any real poller would: this is part of the start-up cost measured.
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkdli.v1 import DliClient, ShowSqlJobProgressRequest

TERMINAL = {"FINISHED": 0, "FAILED": 1, "CANCELLED": 1}


def client(endpoint, ak, sk, project_id):
    cfg = HttpConfig.get_default_config()
    cfg.timeout = (10, 30)
    return (DliClient.new_builder()
            .with_http_config(cfg)
            .with_credentials(BasicCredentials(ak, sk, project_id))
            .with_endpoints([endpoint])
            .build())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--endpoint", help="DLI base URL, e.g. http://127.0.0.1:8090")
    ap.add_argument("--interval", type=float, default=2.0, help="seconds between polls")
    ap.add_argument("--duration", type=float, default=60.0, help="give up after this many seconds")
    ap.add_argument("--version", action="store_true",
                    help="import the SDK, build a client, print versions, exit")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per poll on stderr")
    ap.add_argument("job_id", nargs="?")
    a = ap.parse_args()

    if a.version:
        from importlib import metadata
        client(a.endpoint or "https://dli.cn-north-4.myhuaweicloud.com", "AK", "SK", "0" * 32)
        print("sdk_poller huaweicloudsdkcore==%s huaweicloudsdkdli==%s" % (
            metadata.version("huaweicloudsdkcore"), metadata.version("huaweicloudsdkdli")))
        return 0
    if not a.endpoint or not a.job_id:
        ap.error("give --endpoint and a JOB_ID")
    try:
        ak, sk = os.environ["HUAWEICLOUD_SDK_AK"], os.environ["HUAWEICLOUD_SDK_SK"]
        project_id = os.environ["HUAWEICLOUD_SDK_PROJECT_ID"]
    except KeyError as e:
        print("error: set %s" % e.args[0], file=sys.stderr)
        return 2
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"

    dli = client(a.endpoint, ak, sk, project_id)
    start = time.monotonic()
    deadline = start + a.duration
    while True:
        resp = dli.show_sql_job_progress(ShowSqlJobProgressRequest(job_id=a.job_id))
        if a.verbose:
            print("%.3f %s %s" % (time.monotonic() - start, resp.status, resp.progress),
                  file=sys.stderr)
        if resp.status in TERMINAL:
            return TERMINAL[resp.status]
        now = time.monotonic()
        if now >= deadline:
            return 124
        time.sleep(min(a.interval, deadline - now))


if __name__ == "__main__":
    sys.exit(main())
