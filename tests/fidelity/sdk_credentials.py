#!/usr/bin/env python3
"""The simulator's IAM and ECS metadata service, judged by Huawei Cloud's OFFICIAL Python SDK
(huaweicloudsdkcore, pinned 3.1.219): its own federation (`FederalAccessor`, through the
default credential chain's `EnvCredentialProvider`) and metadata code (`MetadataAccessor`,
through `MetadataCredentialProvider`) must accept the simulator's answers, and the simulated
gateway must accept the temporary keys the SDK got, signed by the SDK (security token included).

The metadata service's address is a class attribute of the SDK
(`MetadataAccessor._METADATA_ENDPOINT`, http://169.254.169.254): it is pointed at the simulator
before anything is asked, so nothing ever goes to 169.254.169.254.

Usage (run by tests/it/sdk_fidelity.rs; by hand):
    dli-wait simulate --scenario tests/fidelity/credentials.json --output json > /tmp/sim.json &
    .venv/bin/python tests/fidelity/sdk_credentials.py --sim-line /tmp/sim.json
One line per check; exit 1 at the first failure, 2 on bad usage.
"""
import argparse
import json
import os
import sys
import tempfile
import time
import traceback

try:
    from huaweicloudsdkcore.auth import internal
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.auth.internal import FederalAccessor, MetadataAccessor
    from huaweicloudsdkcore.auth.provider import (CredentialProviderChain, EnvCredentialProvider,
                                                  MetadataCredentialProvider)
    from huaweicloudsdkcore.exceptions import exceptions
    from huaweicloudsdkcore.http.http_config import HttpConfig
    from huaweicloudsdkdli.v1 import DliClient, ShowSqlJobStatusRequest
except ImportError as e:  # pragma: no cover - setup problem
    print("FAIL setup: the Huawei Cloud SDK is not importable (%s)" % e)
    sys.exit(2)

# tests/fidelity/credentials.json
IDP = "fidelity-idp"
ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJmaWRlbGl0eSJ9.ZmlkZWxpdHk"
JOB = "f1de1170-0000-4000-8000-00000000c0de"


class Failure(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Failure(msg)


def run(name, fn):
    try:
        detail = fn()
    except Failure as e:
        die(name, str(e))
    except exceptions.SdkException as e:
        die(name, "unexpected %s: %s" % (type(e).__name__, e))
    except Exception as e:
        die(name, "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc()))
    print("ok   %-58s %s" % (name, detail or ""), flush=True)


def die(name, msg):
    print("FAIL %s: %s" % (name, msg), flush=True)
    sys.exit(1)


def check_credential(c, what):
    for attr in ("access", "secret", "security_token"):
        v = getattr(c, attr)
        need(isinstance(v, str) and v, "%s: no %s" % (what, attr))
    need(isinstance(c.expire_at, float), "%s: expire_at %r" % (what, c.expire_at))
    # Two hours ahead (the SDK reads the UTC time as local time: TZ=UTC is set by the caller).
    left = c.expire_at - time.time()
    need(3600 < left <= 7200 + 60, "%s: expires in %.0f s, not in about 2 h" % (what, left))
    return "access %s…, expires in %.0f s" % (c.access[:8], left)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sim-line", metavar="FILE", required=True,
                    help="the simulator's first --output json line, from FILE or - (stdin)")
    a = ap.parse_args()
    f = sys.stdin if a.sim_line == "-" else open(a.sim_line, encoding="utf-8")
    line = f.readline()
    try:
        info = json.loads(line)
    except ValueError:
        ap.error("--sim-line: not the simulator's JSON line: %r" % line[:200])
    for k in ("endpoint", "project_id", "iam_endpoint", "metadata_endpoint", "idp_id"):
        if not info.get(k):
            ap.error("the simulator's line has no %s" % k)
    need(info["idp_id"] == IDP, "the simulator's identity provider is %r" % info["idp_id"])
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"

    # The metadata service is the simulator's, never 169.254.169.254.
    MetadataAccessor._METADATA_ENDPOINT = info["metadata_endpoint"].rstrip("/")
    internal.MetadataAccessor._METADATA_ENDPOINT = MetadataAccessor._METADATA_ENDPOINT

    workdir = tempfile.mkdtemp(prefix="sdk-credentials-")
    token_file = os.path.join(workdir, "id-token")
    with open(token_file, "w") as t:
        t.write(ID_TOKEN + "\n")

    cfg = HttpConfig.get_default_config()
    cfg.timeout = (5, 15)
    cfg.retry_times = 0

    def dli(credentials=None):
        b = DliClient.new_builder().with_http_config(cfg).with_endpoints([info["endpoint"]])
        if credentials is not None:
            b = b.with_credentials(credentials)
        return b.build()

    def status_with(client, what):
        r = client.show_sql_job_status(ShowSqlJobStatusRequest(job_id=JOB))
        need(r.status == "FINISHED" and r.job_id == JOB,
             "%s: the simulated DLI answered %r for %r" % (what, r.status, r.job_id))
        return r

    # Federation, as the SDK's default chain finds it in the environment.
    os.environ.update({
        "HUAWEICLOUD_SDK_IDP_ID": IDP,
        "HUAWEICLOUD_SDK_ID_TOKEN_FILE": token_file,
        "HUAWEICLOUD_SDK_IAM_ENDPOINT": info["iam_endpoint"].rstrip("/"),
        "HUAWEICLOUD_SDK_PROJECT_ID": info["project_id"],
        "HUAWEICLOUD_SDK_CREDENTIALS_FILE": os.path.join(workdir, "no-such-file"),
    })
    for v in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN"):
        os.environ.pop(v, None)

    def federal_accessor():
        client = dli(BasicCredentials(project_id=info["project_id"]))
        c = FederalAccessor().get_credential(
            iam_endpoint=info["iam_endpoint"].rstrip("/"), http_client=client.get_http_client(),
            idp_id=IDP, id_token_file=token_file)
        return check_credential(c, "FederalAccessor")
    run("federation: FederalAccessor reads the keys", federal_accessor)

    def federated_call():
        creds = CredentialProviderChain.get_basic().get_credentials()
        need(type(creds.sts_accessor).__name__ == "FederalAccessor",
             "the SDK's chain chose %r, not federation" % type(creds.sts_accessor).__name__)
        client = dli(creds)
        status_with(client, "federated call")
        need(creds.security_token and creds.ak, "the SDK holds no temporary keys after the call")
        return "signed with %s… and its security token" % creds.ak[:8]
    run("federation: the env chain's keys pass the simulated gateway", federated_call)

    def federation_refused():
        client = dli(BasicCredentials(project_id=info["project_id"]))
        for idp, token, status in (("not-" + IDP, ID_TOKEN, 404), (IDP, "eyJ.wrong.token", 401)):
            path = os.path.join(workdir, "other-token")
            with open(path, "w") as t:
                t.write(token)
            try:
                FederalAccessor().get_credential(
                    iam_endpoint=info["iam_endpoint"].rstrip("/"),
                    http_client=client.get_http_client(), idp_id=idp, id_token_file=path)
            except exceptions.ClientRequestException as e:
                need(e.status_code == status, "%s: HTTP %s, expected %s" % (idp, e.status_code, status))
                need(e.error_msg, "%s: no error message" % idp)
                continue
            raise Failure("IAM accepted identity provider %r with token %r" % (idp, token))
        return "unknown provider 404, wrong ID token 401, as ClientRequestException"
    run("federation: refusals reach the SDK as IAM errors", federation_refused)

    for v in ("HUAWEICLOUD_SDK_IDP_ID", "HUAWEICLOUD_SDK_ID_TOKEN_FILE"):
        os.environ.pop(v, None)

    # The ECS metadata service.
    def metadata_accessor():
        c = MetadataAccessor().get_credential()
        return check_credential(c, "MetadataAccessor")
    run("metadata: MetadataAccessor reads the agency's keys", metadata_accessor)

    def metadata_call():
        creds = MetadataCredentialProvider.get_basic().get_credentials()
        need(creds.ak and creds.sk and creds.security_token,
             "MetadataCredentialProvider holds no temporary keys")
        creds.with_project_id(info["project_id"])
        status_with(dli(creds), "metadata call")
        return "signed with %s… and its security token" % creds.ak[:8]
    run("metadata: the provider's keys pass the simulated gateway", metadata_call)

    def metadata_chain():
        # Nothing in the environment, no credentials file: the SDK's chain ends at the metadata
        # service (the pod identity provider after it is never reached).
        creds = CredentialProviderChain.get_basic().get_credentials()
        need(type(creds.sts_accessor).__name__ == "MetadataAccessor",
             "the SDK's chain chose %r" % type(creds.sts_accessor).__name__)
        creds.with_project_id(info["project_id"])
        status_with(dli(creds), "metadata via the chain")
        return "chain → MetadataAccessor"
    run("metadata: the SDK's default chain gets there", metadata_chain)

    print("all checks passed", flush=True)


if __name__ == "__main__":
    main()
