#!/usr/bin/env python3
"""Signing oracle for tests/it/signer_oracle.rs: the OFFICIAL Huawei Cloud Python SDK signer.

Reads a JSON array of cases on stdin, signs each with
huaweicloudsdkcore.signer.signer.Signer (pinned: huaweicloudsdkcore==3.1.219), prints a JSON
array with the resulting `Authorization` header values, in the same order.

A case:
    {"method": "GET", "scheme": "https", "host": "dli.example.com:8443",
     "path": "/v1/pid/jobs/j%201/progress", "query": [["k", "v"], ...],
     "headers": {"Name": "value", ...}, "body": "utf-8 text or empty",
     "ak": "...", "sk": "..."}

`path` is the path as sent on the wire (it may hold %-escapes), `query` the decoded pairs,
`headers` exactly the headers sent (the SDK adds `Host: <host>` itself when none is given, and
`X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` for a non-JSON Content-Type).

With --explain, prints objects {"authorization", "canonical_request", "string_to_sign"}
instead, to show where a mismatch comes from. The signer is never altered: --explain only
records what the official methods return.

Setup: python3 -m venv .venv && .venv/bin/pip install huaweicloudsdkcore==3.1.219
(or scripts/test.sh, which does it).
"""
import json
import sys

try:
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.sdk_request import SdkRequest
    from huaweicloudsdkcore.signer.signer import Signer
except ImportError as e:  # pragma: no cover
    sys.stderr.write(
        "huaweicloudsdkcore is not importable by %s (%s); set it up with: "
        "python3 -m venv .venv && .venv/bin/pip install huaweicloudsdkcore==3.1.219\n"
        % (sys.executable, e)
    )
    sys.exit(3)

PINNED = "3.1.219"
try:
    from importlib.metadata import version as _version

    if _version("huaweicloudsdkcore") != PINNED:
        sys.stderr.write("warning: huaweicloudsdkcore %s installed, tests pin %s\n"
                         % (_version("huaweicloudsdkcore"), PINNED))
except Exception:  # pragma: no cover  (metadata missing: not worth failing over)
    pass


class _RecordingSigner(Signer):
    """The official signer, unchanged, remembering its intermediate strings (--explain)."""

    canonical_request = None
    string_to_sign = None

    def _process_canonical_request(self, request, signed_headers):
        self.canonical_request = super()._process_canonical_request(request, signed_headers)
        return self.canonical_request

    def _process_string_to_sign(self, canonical_request, time):
        self.string_to_sign = super()._process_string_to_sign(canonical_request, time)
        return self.string_to_sign


def sign_case(case, explain):
    body = case.get("body") or ""
    request = SdkRequest(
        method=case["method"],
        schema=case["scheme"],
        host=case["host"],
        resource_path=case["path"],
        query_params=[(k, v) for k, v in case.get("query", [])],
        header_params=dict(case.get("headers", {})),
        body=body.encode("utf-8") if body else None,
    )
    credentials = BasicCredentials(case["ak"], case["sk"])
    signer = _RecordingSigner(credentials) if explain else Signer(credentials)
    signer.sign(request)
    authorization = request.header_params["Authorization"]
    if not explain:
        return authorization
    return {
        "authorization": authorization,
        "canonical_request": signer.canonical_request,
        "string_to_sign": signer.string_to_sign,
    }


def main(argv):
    explain = "--explain" in argv[1:]
    # Bytes in, ASCII out: independent of the locale's encoding.
    cases = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    out = [sign_case(case, explain) for case in cases]
    json.dump(out, sys.stdout, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
