#!/usr/bin/env python3
"""Wire-format fidelity of `dli-wait simulate`, judged by an independent client: Huawei Cloud's
OFFICIAL Python SDK (huaweicloudsdkcore + huaweicloudsdkdli, pinned 3.1.219).

Every call goes through the SDK's typed DliClient (signed with AK/SK, as against the real DLI).
Each success body is checked three ways:
  * raw JSON (`response.raw_content`): every key must be a field the SDK's model declares
    (`attribute_map`), holding a JSON value of the declared `openapi_types` type (nested models
    such as SubJob recursively). The SDK itself would silently coerce `"progress": "0.5"` to
    0.5 and turn `"sub_jobs": {}` into `[SubJob()]`, so this is the check with teeth;
  * typed attributes: each attribute of the response object has the declared Python type;
  * `to_dict()`: equals the raw JSON, key for key (catches renamed or coerced fields).
Errors must surface as the SDK's ClientRequestException with the right status and error_code.

Usage (run by tests/it/sdk_fidelity.rs; by hand):
    dli-wait simulate --scenario tests/fidelity/scenario.json --output json > /tmp/sim.json &
    .venv/bin/python tests/fidelity/sdk_fidelity.py --sim-line /tmp/sim.json
--sim-line takes the simulator's first `--output json` line from a file, or `-` for stdin;
--endpoint/--project-id/--ak/--sk override it. The job ids default to those of
tests/fidelity/scenario.json. One line per check; exit 1 at the first failure, 2 on bad usage.
"""
import argparse
import json
import math
import os
import re
import sys
import time
import traceback
from decimal import Decimal

try:
    from importlib import metadata
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.exceptions import exceptions
    from huaweicloudsdkcore.http.http_config import HttpConfig
    from huaweicloudsdkdli.v1 import model as dli_models
    from huaweicloudsdkdli.v1 import (DliClient, CancelSqlJobRequest, CreateSqlJobRequest,
                                      CreateSqlJobRequestBody, ShowSqlJobProgressRequest,
                                      ShowSqlJobStatusRequest, PreviewSqlJobResultRequest,
                                      CancelSparkJobRequest,
                                      CreateSparkJobRequest, CreateSparkJobRequestBody,
                                      ShowSparkJobLogRequest, ShowSparkJobRequest,
                                      ShowSparkJobStatusRequest, ListSqlJobsRequest,
                                      ListSparkJobsRequest, Tag, ShowFlinkJobRequest,
                                      BatchStopFlinkJobsRequest, StopFlinkJobsRequestBody)
except ImportError as e:  # pragma: no cover - setup problem
    print("FAIL setup: the Huawei Cloud SDK is not importable (%s); install it with: "
          "python3 -m venv .venv && .venv/bin/pip install huaweicloudsdkcore==3.1.219 "
          "huaweicloudsdkdli==3.1.219" % e)
    sys.exit(2)

PINNED = "3.1.219"
STATUSES = {"LAUNCHING", "RUNNING", "SCALING", "FINISHED", "FAILED", "CANCELLED"}
NOT_ENDED = {"LAUNCHING", "RUNNING", "SCALING"}
JOB_TYPES = {"DDL", "DCL", "IMPORT", "EXPORT", "QUERY", "INSERT", "DATA_MIGRATION", "UPDATE",
             "DELETE", "RESTART_QUEUE", "SCALE_QUEUE"}
# The jobs of tests/fidelity/scenario.json.
RUNNING_JOB = "f1de1170-0000-4000-8000-000000000001"
FINISHED_JOB = "f1de1170-0000-4000-8000-000000000002"
FAILED_JOB = "f1de1170-0000-4000-8000-000000000003"
UNKNOWN_JOB = "00000000-0000-4000-8000-00000000dead"
# The Spark batches of tests/fidelity/scenario.json, and the states of a batch.
RUNNING_BATCH = "f1de1170-0000-4000-8000-0000000000b1"
SUCCESS_BATCH = "f1de1170-0000-4000-8000-0000000000b2"
DEAD_BATCH = "f1de1170-0000-4000-8000-0000000000b3"
RUNNING_FLINK = 50320
FINISHING_FLINK = 50321
FLINK_STATES = {"job_init", "job_submitting", "job_submit_fail", "job_running",
                "job_running_exception", "job_downloading", "job_idle", "job_canceling",
                "job_cancel_success", "job_cancel_fail", "job_savepointing",
                "job_arrearage_stopped", "job_arrearage_recovering", "job_finish"}
SPARK_STATES = {"starting", "running", "recovering", "success", "dead"}
SPARK_NOT_ENDED = {"starting", "running", "recovering"}
POLL_LIMIT_S = 10.0


class Failure(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Failure(msg)


def run(name, fn):
    """Run one check: print `ok   name: detail`, or `FAIL name: why` and exit 1."""
    try:
        detail = fn()
    except Failure as e:
        die(name, str(e))
    except exceptions.SdkException as e:
        die(name, "unexpected %s: %s" % (type(e).__name__, e))
    except Exception as e:  # a crash inside the SDK (e.g. while deserializing) is a failure too
        die(name, "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc()))
    print("ok   %-58s %s" % (name, detail or ""), flush=True)


def die(name, msg):
    print("FAIL %s: %s" % (name, msg), flush=True)
    sys.exit(1)


# ---------------------------------------------------------------- shape checks against the SDK

def model_class(declared):
    return getattr(dli_models, declared, None)


def list_inner(declared):
    m = re.fullmatch(r"list\[(.*)\]", declared)
    return m.group(1) if m else None


def dict_inner(declared):
    m = re.fullmatch(r"dict\(([^,]*), (.*)\)", declared)
    return m.group(2) if m else None


def json_kind(v):
    return {bool: "bool", int: "int", float: "float", str: "str", list: "list",
            dict: "object", type(None): "null"}.get(type(v), type(v).__name__)


def check_raw(value, declared, where):
    """`value` (plain json.loads) must be a JSON value of the SDK's declared type."""
    if value is None:
        return  # every SDK field is optional: null reads as absent
    bad = "%s is JSON %s %s, the SDK declares %s" % (where, json_kind(value),
                                                     json.dumps(value)[:60], declared)
    if declared == "str":
        need(isinstance(value, str), bad)
    elif declared == "int":
        need(isinstance(value, int) and not isinstance(value, bool), bad)
    elif declared == "float":
        need(isinstance(value, (int, float)) and not isinstance(value, bool), bad)
    elif declared == "bool":
        need(isinstance(value, bool), bad)
    elif declared == "object":
        pass
    elif list_inner(declared) is not None:
        need(isinstance(value, list), bad)
        for i, v in enumerate(value):
            check_raw(v, list_inner(declared), "%s[%d]" % (where, i))
    elif dict_inner(declared) is not None:
        need(isinstance(value, dict), bad)
        for k, v in value.items():
            check_raw(v, dict_inner(declared), "%s[%r]" % (where, k))
    else:
        klass = model_class(declared)
        need(klass is not None, "%s: the SDK type %s is unknown to this check" % (where, declared))
        need(isinstance(value, dict), bad)
        check_raw_model(value, klass, where)


def check_raw_model(raw, klass, where):
    by_json = {j: a for a, j in klass.attribute_map.items()}
    for key, value in raw.items():
        need(key in by_json, "%s has key %r, which %s does not declare (it knows %s)" % (
            where, key, klass.__name__, ", ".join(sorted(by_json))))
        check_raw(value, klass.openapi_types[by_json[key]], "%s.%s" % (where, key))


def check_typed(value, declared, where):
    """An attribute of the SDK's response object must have the declared Python type."""
    if value is None:
        return
    bad = "%s is Python %s %r, the SDK declares %s" % (where, type(value).__name__, value, declared)
    if declared == "str":
        need(isinstance(value, str), bad)
    elif declared == "int":
        need(isinstance(value, int) and not isinstance(value, bool), bad)
    elif declared == "float":
        need(isinstance(value, float), bad)
    elif declared == "bool":
        need(isinstance(value, bool), bad)
    elif declared == "object":
        pass
    elif list_inner(declared) is not None:
        need(isinstance(value, list), bad)
        for i, v in enumerate(value):
            check_typed(v, list_inner(declared), "%s[%d]" % (where, i))
    elif dict_inner(declared) is not None:
        need(isinstance(value, dict), bad)
        for k, v in value.items():
            check_typed(v, dict_inner(declared), "%s[%r]" % (where, k))
    else:
        klass = model_class(declared)
        need(klass is not None and isinstance(value, klass), bad)
        for attr, decl in klass.openapi_types.items():
            check_typed(getattr(value, attr), decl, "%s.%s" % (where, attr))


def normalize(v):
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, list):
        return [normalize(x) for x in v]
    if isinstance(v, dict):
        return {k: normalize(x) for k, x in v.items()}
    return v


def same(a, b):
    a, b = normalize(a), normalize(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-12)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def to_dict_raw(d, klass):
    """`to_dict()` keys are attribute names; rename to JSON names and drop absent fields."""
    out = {}
    for attr, value in d.items():
        if value is None:
            continue
        declared = klass.openapi_types[attr]
        inner = list_inner(declared)
        if inner and model_class(inner) and isinstance(value, list):
            value = [to_dict_raw(v, model_class(inner)) if isinstance(v, dict) else v for v in value]
        elif model_class(declared) and isinstance(value, dict):
            value = to_dict_raw(value, model_class(declared))
        out[klass.attribute_map[attr]] = value
    return out


def verify(resp, what):
    """The three shape checks on one SDK response; returns the raw JSON object."""
    klass = type(resp)
    raw_bytes = getattr(resp, "raw_content", None)
    need(raw_bytes, "%s: the SDK response has no raw_content" % what)
    try:
        raw = json.loads(raw_bytes.decode("utf-8"))
    except ValueError as e:
        raise Failure("%s: the body is not JSON (%s): %r" % (what, e, raw_bytes[:200]))
    need(isinstance(raw, dict), "%s: the body is JSON %s, not an object" % (what, json_kind(raw)))
    check_raw_model(raw, klass, what)
    for attr, declared in klass.openapi_types.items():
        check_typed(getattr(resp, attr), declared, "%s.%s" % (klass.__name__, attr))
    got = to_dict_raw(resp.to_dict(), klass)
    sensitive = {klass.attribute_map[a] for a in getattr(klass, "sensitive_list", [])}
    for key, value in raw.items():
        if key in sensitive or value is None:
            continue
        need(key in got and same(got[key], value),
             "%s: to_dict() has %s=%r but the body says %r" % (
                 what, key, got.get(key), value))
    return raw


def need_keys(raw, keys, what):
    missing = [k for k in keys if k not in raw]
    need(not missing, "%s: the body lacks %s: %s" % (what, ", ".join(missing), json.dumps(raw)))


def expect_error(call, status, code, what):
    try:
        resp = call()
    except exceptions.ClientRequestException as e:
        need(e.status_code == status and e.error_code == code,
             "%s: expected HTTP %d %s, the SDK raised %s" % (what, status, code, e))
        need(e.error_msg, "%s: error_msg is empty" % what)
        need(e.request_id, "%s: no request_id (X-Request-Id header)" % what)
        return "ClientRequestException %d %s %r (request_id %s)" % (
            e.status_code, e.error_code, e.error_msg[:70], e.request_id)
    except exceptions.ServiceResponseException as e:
        raise Failure("%s: expected ClientRequestException %d %s, got %s" % (what, status, code, e))
    raise Failure("%s: expected HTTP %d %s, the call succeeded: %s" % (
        what, status, code, getattr(resp, "raw_content", resp)))


def poll(call, done, what):
    """Call until `done`; every answer on the way is shape-checked too."""
    deadline = time.monotonic() + POLL_LIMIT_S
    while True:
        resp = call()
        verify(resp, what)
        if done(resp):
            return resp
        if time.monotonic() > deadline:
            raise Failure("%s: still not there after %.0f s; last answer %s" % (
                what, POLL_LIMIT_S, resp.raw_content))
        time.sleep(0.2)


# ------------------------------------------------------------------------------------ the checks

def status_checks(r, raw, job_id, what):
    need_keys(raw, ["is_success", "message", "job_id", "job_type", "job_mode", "queue_name",
                    "start_time", "duration", "status"], what)
    need(r.is_success is True, "%s: is_success is %r" % (what, r.is_success))
    need(r.job_id == job_id, "%s: job_id %r, asked for %r" % (what, r.job_id, job_id))
    need(r.status in STATUSES, "%s: status %r is not one of %s" % (what, r.status, sorted(STATUSES)))
    need(r.job_type in JOB_TYPES, "%s: job_type %r" % (what, r.job_type))
    need(r.job_mode in ("async", "sync"), "%s: job_mode %r" % (what, r.job_mode))
    now_ms = time.time() * 1000
    need(isinstance(r.start_time, int) and abs(now_ms - r.start_time) < 86400e3,
         "%s: start_time %r is not epoch milliseconds of today" % (what, r.start_time))
    need(isinstance(r.duration, int) and r.duration >= 0, "%s: duration %r" % (what, r.duration))
    if r.detail is not None and r.status == "FINISHED":
        json.loads(r.detail)  # a JSON *string* holding the result schema


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sim-line", metavar="FILE",
                    help="the simulator's first --output json line, from FILE or - (stdin)")
    ap.add_argument("--endpoint")
    ap.add_argument("--project-id")
    ap.add_argument("--ak")
    ap.add_argument("--sk")
    ap.add_argument("--running-job", default=RUNNING_JOB)
    ap.add_argument("--finished-job", default=FINISHED_JOB)
    ap.add_argument("--failed-job", default=FAILED_JOB)
    ap.add_argument("--running-batch", default=RUNNING_BATCH)
    ap.add_argument("--success-batch", default=SUCCESS_BATCH)
    ap.add_argument("--dead-batch", default=DEAD_BATCH)
    ap.add_argument("--running-flink", type=int, default=RUNNING_FLINK)
    ap.add_argument("--finishing-flink", type=int, default=FINISHING_FLINK)
    a = ap.parse_args()
    if a.sim_line:
        f = sys.stdin if a.sim_line == "-" else open(a.sim_line, encoding="utf-8")
        line = f.readline()
        try:
            info = json.loads(line)
        except ValueError:
            ap.error("--sim-line: not the simulator's JSON line: %r" % line[:200])
        for k in ("endpoint", "project_id", "ak", "sk"):
            if getattr(a, k) is None:
                setattr(a, k, info.get(k))
    for k in ("endpoint", "project_id", "ak", "sk"):
        if not getattr(a, k):
            ap.error("no --%s (and no --sim-line giving it)" % k.replace("_", "-"))
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"

    versions = {p: metadata.version(p) for p in ("huaweicloudsdkcore", "huaweicloudsdkdli")}
    print("sdk  %s%s" % (" ".join("%s==%s" % kv for kv in versions.items()),
                         "" if set(versions.values()) == {PINNED} else
                         "  (WARNING: the test is pinned to %s)" % PINNED), flush=True)

    def client(sk):
        cfg = HttpConfig.get_default_config()
        cfg.timeout = (5, 15)
        cfg.retry_times = 0
        return (DliClient.new_builder()
                .with_http_config(cfg)
                .with_credentials(BasicCredentials(a.ak, sk, a.project_id))
                .with_endpoints([a.endpoint])
                .build())

    dli = client(a.sk)

    def progress(job):
        return dli.show_sql_job_progress(ShowSqlJobProgressRequest(job_id=job))

    def status(job):
        return dli.show_sql_job_status(ShowSqlJobStatusRequest(job_id=job))

    # 1. A running job, mid sub-job.
    def running_progress():
        what = "progress(running)"
        r = poll(lambda: progress(a.running_job),
                 lambda r: r.status != "LAUNCHING" and r.sub_jobs, what)
        raw = verify(r, what)
        need_keys(raw, ["is_success", "message", "job_id", "status", "sub_job_id", "progress",
                        "sub_jobs"], what)
        need(r.is_success is True, "%s: is_success %r" % (what, r.is_success))
        need(r.job_id == a.running_job, "%s: job_id %r" % (what, r.job_id))
        need(r.status in NOT_ENDED, "%s: status %r is not a running state" % (what, r.status))
        need(isinstance(r.progress, float) and 0.0 <= r.progress <= 1.0,
             "%s: progress %r is not a float in 0..1" % (what, r.progress))
        need(isinstance(r.sub_job_id, int), "%s: sub_job_id %r" % (what, r.sub_job_id))
        need(isinstance(r.sub_jobs, list) and r.sub_jobs
             and all(isinstance(s, dli_models.SubJob) for s in r.sub_jobs),
             "%s: sub_jobs %r is not a non-empty list of SubJob" % (what, r.sub_jobs))
        s = r.sub_jobs[0]
        need(s.id == r.sub_job_id, "%s: sub_jobs[0].id %r != sub_job_id %r" % (what, s.id, r.sub_job_id))
        for f in ("num_tasks", "num_active_tasks", "num_completed_tasks", "num_completed_indices",
                  "num_active_stages", "num_completed_stages"):
            need(isinstance(getattr(s, f), int), "%s: SubJob.%s = %r" % (what, f, getattr(s, f)))
        need(s.num_tasks > 0 and 0 <= s.num_completed_tasks <= s.num_tasks,
             "%s: task counts %d/%d" % (what, s.num_completed_tasks, s.num_tasks))
        need(isinstance(s.stage_ids, list) and s.stage_ids
             and all(isinstance(i, int) for i in s.stage_ids), "%s: stage_ids %r" % (what, s.stage_ids))
        need(s.job_group == a.running_job, "%s: job_group %r" % (what, s.job_group))
        need(isinstance(s.status, str) and isinstance(s.name, str) and isinstance(s.submission_time, str),
             "%s: SubJob status/name/submission_time not strings" % what)
        need(abs(r.progress - s.num_completed_tasks / s.num_tasks) < 0.01,
             "%s: progress %r is not completed/total tasks of the running sub-job (%d/%d)" % (
                 what, r.progress, s.num_completed_tasks, s.num_tasks))
        return "%s progress %r sub_job_id %d, %d sub-job(s), tasks %d/%d, stages %s" % (
            r.status, r.progress, r.sub_job_id, len(r.sub_jobs), s.num_completed_tasks,
            s.num_tasks, s.stage_ids)
    run("ShowSqlJobProgress on a RUNNING job", running_progress)

    def running_status():
        what = "status(running)"
        r = status(a.running_job)
        raw = verify(r, what)
        status_checks(r, raw, a.running_job, what)
        need(r.status in NOT_ENDED, "%s: status %r" % (what, r.status))
        return "%s %s/%s duration %d ms" % (r.status, r.job_type, r.job_mode, r.duration)
    run("ShowSqlJobStatus on a RUNNING job", running_status)

    # 2. A finished job.
    def finished_status():
        what = "status(finished)"
        r = poll(lambda: status(a.finished_job), lambda r: r.status not in NOT_ENDED, what)
        raw = verify(r, what)
        status_checks(r, raw, a.finished_job, what)
        need(r.status == "FINISHED", "%s: status %r" % (what, r.status))
        # DLI's figures, as dli-wait reads them (issue 22): typed as the SDK types them.
        need(r.queue_name == "etl", "%s: queue_name %r" % (what, r.queue_name))
        need(r.input_size == 1288490189, "%s: input_size %r" % (what, r.input_size))
        need(r.result_count == 2, "%s: result_count %r" % (what, r.result_count))
        need(r.duration >= 300, "%s: duration %r ms for a 300 ms job" % (what, r.duration))
        return "FINISHED %s/%s start_time %d duration %d ms result_count %r input_size %r" % (
            r.job_type, r.job_mode, r.start_time, r.duration, r.result_count, r.input_size)
    run("ShowSqlJobStatus on a FINISHED job", finished_status)

    def preview(job):
        return dli.preview_sql_job_result(PreviewSqlJobResultRequest(job_id=job))

    def finished_preview():
        what = "preview(finished)"
        r = preview(a.finished_job)
        raw = verify(r, what)
        need_keys(raw, ["is_success", "message", "job_id", "row_count", "schema", "rows"], what)
        need(r.job_id == a.finished_job, "%s: job_id %r" % (what, r.job_id))
        need(r.row_count == 2, "%s: row_count %r" % (what, r.row_count))
        need(r.schema == [{"id": "int"}, {"name": "string"}, {"amount": "double"}],
             "%s: schema %r" % (what, r.schema))
        need(r.rows == [[1, "alice, smith", 3.5], [2, 'say "hi"', None]],
             "%s: rows %r" % (what, r.rows))
        return "row_count %d, schema %r, %d rows" % (r.row_count, r.schema, len(r.rows))
    run("PreviewSqlJobResult on a FINISHED query", finished_preview)

    def finished_progress():
        what = "progress(finished)"
        r = progress(a.finished_job)
        raw = verify(r, what)
        need_keys(raw, ["is_success", "message", "job_id", "status"], what)
        need(r.status == "FINISHED", "%s: status %r" % (what, r.status))
        need(r.sub_job_id is None, "%s: sub_job_id %r after the end" % (what, r.sub_job_id))
        need(not r.sub_jobs, "%s: sub_jobs %r after the end" % (what, r.sub_jobs))
        need(r.progress is None or r.progress == 1.0, "%s: progress %r" % (what, r.progress))
        return "FINISHED progress %r sub_jobs %r" % (r.progress, r.sub_jobs)
    run("ShowSqlJobProgress on a FINISHED job", finished_progress)

    # 3. A failed job.
    def failed_status():
        what = "status(failed)"
        r = poll(lambda: status(a.failed_job), lambda r: r.status not in NOT_ENDED, what)
        raw = verify(r, what)
        status_checks(r, raw, a.failed_job, what)
        need(r.status == "FAILED", "%s: status %r" % (what, r.status))
        need(isinstance(r.message, str) and r.message.strip(),
             "%s: a FAILED job's message is empty" % what)
        return "FAILED %s/%s duration %d ms message %r" % (
            r.job_type, r.job_mode, r.duration, r.message[:60])
    run("ShowSqlJobStatus on a FAILED job", failed_status)

    def failed_progress():
        what = "progress(failed)"
        r = progress(a.failed_job)
        raw = verify(r, what)
        need_keys(raw, ["is_success", "message", "job_id", "status"], what)
        need(r.status == "FAILED", "%s: status %r" % (what, r.status))
        need(not r.sub_jobs, "%s: sub_jobs %r after the end" % (what, r.sub_jobs))
        return "FAILED progress %r message %r" % (r.progress, r.message)
    run("ShowSqlJobProgress on a FAILED job", failed_progress)

    run("PreviewSqlJobResult on a job of the default queue -> 400 DLI.0001",
        lambda: expect_error(lambda: preview(a.failed_job), 400, "DLI.0001",
                             "preview(default queue)"))

    # 4. Submit, cancel, CANCELLED.
    created = {}

    def create():
        what = "submit(select 1)"
        r = dli.create_sql_job(CreateSqlJobRequest(
            body=CreateSqlJobRequestBody(sql="select 1", queue_name="default")))
        raw = verify(r, what)
        need_keys(raw, ["is_success", "message", "job_id", "job_type", "job_mode"], what)
        need(r.is_success is True, "%s: is_success %r" % (what, r.is_success))
        need(isinstance(r.job_id, str) and r.job_id, "%s: job_id %r" % (what, r.job_id))
        need(r.job_mode == "async", "%s: job_mode %r" % (what, r.job_mode))
        need(r.job_type in JOB_TYPES, "%s: job_type %r" % (what, r.job_type))
        created["id"] = r.job_id
        return "job_id %s %s/%s" % (r.job_id, r.job_type, r.job_mode)
    run("CreateSqlJob select 1", create)

    def cancel():
        what = "cancel(new job)"
        r = dli.cancel_sql_job(CancelSqlJobRequest(job_id=created["id"]))
        raw = verify(r, what)
        need_keys(raw, ["is_success", "message"], what)
        need(r.is_success is True, "%s: is_success %r" % (what, r.is_success))
        return "is_success %r message %r" % (r.is_success, r.message)
    run("CancelSqlJob on the new job", cancel)

    def cancelled():
        what = "status(cancelled)"
        r = poll(lambda: status(created["id"]), lambda r: r.status not in NOT_ENDED, what)
        raw = verify(r, what)
        status_checks(r, raw, created["id"], what)
        need(r.status == "CANCELLED", "%s: status %r" % (what, r.status))
        return "CANCELLED duration %d ms message %r" % (r.duration, r.message)
    run("ShowSqlJobStatus on it: eventually CANCELLED", cancelled)

    def cancelled_progress():
        what = "progress(cancelled)"
        r = progress(created["id"])
        verify(r, what)
        need(r.status == "CANCELLED", "%s: status %r" % (what, r.status))
        return "CANCELLED"
    run("ShowSqlJobProgress on it: CANCELLED", cancelled_progress)

    run("CancelSqlJob on an ended job is refused (HTTP 400)",
        lambda: expect_error(lambda: dli.cancel_sql_job(CancelSqlJobRequest(job_id=a.finished_job)),
                             400, "DLI.0007", "cancel(finished)"))

    def ddl():
        what = "submit(CREATE TABLE)"
        r = dli.create_sql_job(CreateSqlJobRequest(
            body=CreateSqlJobRequestBody(sql="CREATE TABLE t (id int)", queue_name="default")))
        verify(r, what)
        need(r.job_mode == "sync", "%s: job_mode %r" % (what, r.job_mode))
        need(r.job_type in JOB_TYPES, "%s: job_type %r" % (what, r.job_type))
        return "job_id %s %s/%s" % (r.job_id, r.job_type, r.job_mode)
    run("CreateSqlJob DDL is synchronous", ddl)

    # 4b. The SQL job list: tags on submit, the list's filters and paging (ListSqlJobs).
    tagged = {}

    def create_tagged():
        what = "submit(tagged)"
        r = dli.create_sql_job(CreateSqlJobRequest(body=CreateSqlJobRequestBody(
            sql="insert into t select 1", queue_name="default",
            tags=[Tag(key="dli-wait-key", value="fidelity-1")])))
        verify(r, what)
        tagged["id"] = r.job_id
        return "job_id %s" % r.job_id
    run("CreateSqlJob with a tag", create_tagged)

    def list_by_tag():
        what = "list(tags=dli-wait-key=fidelity-1)"
        r = dli.list_sql_jobs(ListSqlJobsRequest(tags="dli-wait-key=fidelity-1", page_size=10,
                                                 current_page=1, order="start_time_desc"))
        raw = verify(r, what)
        need_keys(raw, ["is_success", "message", "job_count", "jobs"], what)
        need(r.job_count == 1 and len(r.jobs) == 1, "%s: %r" % (what, raw))
        job = r.jobs[0]
        need(job.job_id == tagged["id"], "%s: job_id %r, submitted %r" % (what, job.job_id, tagged["id"]))
        need(job.status in STATUSES, "%s: status %r" % (what, job.status))
        need([(t.key, t.value) for t in job.tags] == [("dli-wait-key", "fidelity-1")],
             "%s: tags %r" % (what, job.tags))
        need(job.statement == "insert into t select 1", "%s: statement %r" % (what, job.statement))
        need(isinstance(job.start_time, int) and isinstance(job.duration, int),
             "%s: start_time %r duration %r" % (what, job.start_time, job.duration))
        return "job_count 1: %s %s" % (job.job_id, job.status)
    run("ListSqlJobs by tag: exactly the tagged job", list_by_tag)

    def list_by_status():
        what = "list(job-status=FINISHED)"
        r = dli.list_sql_jobs(ListSqlJobsRequest(job_status="FINISHED", page_size=100))
        verify(r, what)
        ids = [j.job_id for j in r.jobs]
        need(a.finished_job in ids and a.running_job not in ids, "%s: %r" % (what, ids))
        need(all(j.status == "FINISHED" for j in r.jobs), "%s: statuses %r" % (what, r.jobs))
        need(all(isinstance(j.end_time, int) for j in r.jobs), "%s: an end_time missing" % what)
        return "%d FINISHED jobs" % r.job_count
    run("ListSqlJobs by status", list_by_status)

    def list_pages():
        what = "list(page-size=1)"
        pages = []
        for page in (1, 2):
            r = dli.list_sql_jobs(ListSqlJobsRequest(page_size=1, current_page=page,
                                                     order="start_time_asc"))
            verify(r, what)
            need(len(r.jobs) == 1, "%s: page %d holds %d jobs" % (what, page, len(r.jobs)))
            pages.append((r.job_count, r.jobs[0].job_id))
        need(pages[0][0] == pages[1][0] and pages[0][0] >= 5, "%s: job_count %r" % (what, pages))
        need(pages[0][1] != pages[1][1], "%s: page 2 repeats page 1: %r" % (what, pages))
        return "job_count %d, pages %s" % (pages[0][0], [p[1][:8] for p in pages])
    run("ListSqlJobs pages (page-size, current-page)", list_pages)

    def tagged_status():
        what = "status(tagged)"
        r = status(tagged["id"])
        raw = verify(r, what)
        status_checks(r, raw, tagged["id"], what)
        need([(t.key, t.value) for t in (r.tags or [])] == [("dli-wait-key", "fidelity-1")],
             "%s: tags %r" % (what, r.tags))
        return "tags %r" % [(t.key, t.value) for t in r.tags]
    run("ShowSqlJobStatus shows the submit's tags", tagged_status)

    def own_deadline():
        what = "status(dli.sql.job.timeout=1)"
        r = dli.create_sql_job(CreateSqlJobRequest(body=CreateSqlJobRequestBody(
            sql="insert into t select 2", queue_name="default",
            conf=["spark.sql.shuffle.partitions=10", "dli.sql.job.timeout=1"])))
        verify(r, "submit(dli.sql.job.timeout=1)")
        job = r.job_id
        r = poll(lambda: status(job), lambda r: r.status not in NOT_ENDED, what)
        raw = verify(r, what)
        status_checks(r, raw, job, what)
        need(r.status == "CANCELLED", "%s: status %r" % (what, r.status))
        need("dli.sql.job.timeout=1" in r.message, "%s: message %r" % (what, r.message))
        need(1000 <= r.duration < 2000, "%s: duration %r ms" % (what, r.duration))
        need("dli.sql.job.timeout=1" in (r.user_conf or ""), "%s: user_conf %r" % (what, r.user_conf))
        return "CANCELLED after %d ms: %r" % (r.duration, r.message)
    run("CreateSqlJob with dli.sql.job.timeout: CANCELLED by DLI at it", own_deadline)

    run("ListSqlJobs with page-size 0 -> 400 DLI.0001",
        lambda: expect_error(lambda: dli.list_sql_jobs(ListSqlJobsRequest(page_size=0)),
                             400, "DLI.0001", "list(page-size=0)"))

    # 5. Errors.
    run("CreateSqlJob with bad SQL -> DLI.0005",
        lambda: expect_error(lambda: dli.create_sql_job(CreateSqlJobRequest(
            body=CreateSqlJobRequestBody(sql="SELEC * FROM t", queue_name="default"))),
            400, "DLI.0005", "submit(bad sql)"))
    run("ShowSqlJobProgress on an unknown job -> 400 DLI.0002",
        lambda: expect_error(lambda: progress(UNKNOWN_JOB), 400, "DLI.0002", "progress(unknown)"))
    run("ShowSqlJobStatus on an unknown job -> 400 DLI.0002",
        lambda: expect_error(lambda: status(UNKNOWN_JOB), 400, "DLI.0002", "status(unknown)"))
    wrong = client(a.sk + "-wrong")
    run("a wrong secret key -> 401 APIGW.0301",
        lambda: expect_error(lambda: wrong.show_sql_job_status(
            ShowSqlJobStatusRequest(job_id=a.running_job)), 401, "APIGW.0301", "status(wrong sk)"))

    # 6. Spark batches: state, details, log, create, cancel, and their errors.
    def batch_state(batch):
        return dli.show_spark_job_status(ShowSparkJobStatusRequest(batch_id=batch))

    def batch_details(batch):
        return dli.show_spark_job(ShowSparkJobRequest(batch_id=batch))

    def state_checks(r, raw, batch, what):
        need_keys(raw, ["id", "state"], what)
        need(r.id == batch, "%s: id %r, asked for %r" % (what, r.id, batch))
        need(r.state in SPARK_STATES, "%s: state %r is not one of %s" % (
            what, r.state, sorted(SPARK_STATES)))

    def details_checks(r, raw, batch, what):
        need_keys(raw, ["id", "state", "log", "create_time", "update_time", "owner", "kind",
                        "queue"], what)
        state_checks(r, raw, batch, what)
        need(isinstance(r.log, list) and all(isinstance(l, str) for l in r.log),
             "%s: log %r is not a list of strings" % (what, r.log))
        now_ms = time.time() * 1000
        need(isinstance(r.create_time, int) and abs(now_ms - r.create_time) < 86400e3,
             "%s: create_time %r is not epoch milliseconds of today" % (what, r.create_time))
        need(isinstance(r.update_time, int) and r.update_time >= r.create_time,
             "%s: update_time %r before create_time %r" % (what, r.update_time, r.create_time))

    def running_batch():
        what = "batch state(running)"
        r = batch_state(a.running_batch)
        raw = verify(r, what)
        state_checks(r, raw, a.running_batch, what)
        need(r.state in SPARK_NOT_ENDED, "%s: state %r" % (what, r.state))
        what = "batch details(running)"
        d = batch_details(a.running_batch)
        raw = verify(d, what)
        details_checks(d, raw, a.running_batch, what)
        need(d.state == r.state, "%s: state %r, /state says %r" % (what, d.state, r.state))
        return "%s; details kind %s queue %s, %d log lines" % (r.state, d.kind, d.queue, len(d.log))
    run("ShowSparkJobStatus and ShowSparkJob on a running batch", running_batch)

    def success_batch():
        what = "batch state(success)"
        r = poll(lambda: batch_state(a.success_batch), lambda r: r.state not in SPARK_NOT_ENDED,
                 what)
        raw = verify(r, what)
        state_checks(r, raw, a.success_batch, what)
        need(r.state == "success", "%s: state %r" % (what, r.state))
        return "success"
    run("ShowSparkJobStatus on a batch that ended success", success_batch)

    def dead_batch():
        what = "batch details(dead)"
        r = poll(lambda: batch_details(a.dead_batch), lambda r: r.state not in SPARK_NOT_ENDED,
                 what)
        raw = verify(r, what)
        details_checks(r, raw, a.dead_batch, what)
        need(r.state == "dead", "%s: state %r" % (what, r.state))
        need(r.log and any("Exception" in l for l in r.log),
             "%s: the log %r does not say why it died" % (what, r.log))
        return "dead; log %r" % r.log[-1][:60]
    run("ShowSparkJob on a dead batch: its log says why", dead_batch)

    def dead_log():
        what = "batch log(dead)"
        r = dli.show_spark_job_log(ShowSparkJobLogRequest(batch_id=a.dead_batch))
        raw = verify(r, what)
        need_keys(raw, ["id", "from", "total", "log"], what)
        need(r.id == a.dead_batch, "%s: id %r" % (what, r.id))
        need(isinstance(r.log, list) and r.log and r.total == len(r.log),
             "%s: log %r, total %r" % (what, r.log, r.total))
        return "from %r total %r: %r" % (r._from, r.total, r.log[-1][:60])
    run("ShowSparkJobLog on the dead batch", dead_log)

    batch = {}

    def create_batch():
        what = "create batch"
        r = dli.create_spark_job(CreateSparkJobRequest(body=CreateSparkJobRequestBody(
            file="batchTest/spark-examples.jar", class_name="org.apache.spark.examples.SparkPi",
            queue="default", name="fidelity", args=["10"], conf={"spark.dli.x": "1"},
            num_executors=2)))
        raw = verify(r, what)
        need_keys(raw, ["id", "state"], what)
        need(isinstance(r.id, str) and re.fullmatch(r"[0-9a-f-]{36}", r.id), "%s: id %r" % (what, r.id))
        need(r.state in SPARK_NOT_ENDED, "%s: state %r" % (what, r.state))
        batch["id"] = r.id
        return "id %s state %s kind %s" % (r.id, r.state, r.kind)
    run("CreateSparkJob", create_batch)

    def list_batches():
        what = "list batches(job_name=fidelity)"
        r = dli.list_spark_jobs(ListSparkJobsRequest(job_name="fidelity", queue_name="default",
                                                     size=10))
        raw = verify(r, what)
        need_keys(raw, ["from", "total", "sessions"], what)
        need(r.total == 1 and [s.id for s in r.sessions] == [batch["id"]], "%s: %r" % (what, raw))
        need(r.sessions[0].name == "fidelity" and r.sessions[0].state in SPARK_STATES,
             "%s: %r" % (what, raw))
        named = r.sessions[0]
        r = dli.list_spark_jobs(ListSparkJobsRequest(state="success"))
        verify(r, what)
        need([s.id for s in r.sessions] == [a.success_batch], "list batches(state=success): %r"
             % [s.id for s in r.sessions])
        return "total 1: %s %s; state=success: %s" % (named.id, named.state, a.success_batch)
    run("ListSparkJobs by name and by state", list_batches)

    def cancel_batch():
        what = "cancel batch"
        r = dli.cancel_spark_job(CancelSparkJobRequest(batch_id=batch["id"]))
        raw = verify(r, what)
        need_keys(raw, ["msg"], what)
        need(r.msg == "deleted", "%s: msg %r" % (what, r.msg))
        return "msg %r" % r.msg
    run("CancelSparkJob on the new batch", cancel_batch)

    def cancelled_batch():
        what = "batch state(cancelled)"
        r = poll(lambda: batch_state(batch["id"]), lambda r: r.state not in SPARK_NOT_ENDED, what)
        raw = verify(r, what)
        state_checks(r, raw, batch["id"], what)
        need(r.state == "dead", "%s: state %r" % (what, r.state))
        return "dead"
    run("ShowSparkJobStatus on it: eventually dead", cancelled_batch)

    run("CancelSparkJob on an ended batch is refused (HTTP 400)",
        lambda: expect_error(lambda: dli.cancel_spark_job(
            CancelSparkJobRequest(batch_id=a.success_batch)), 400, "DLI.0007", "cancel(success)"))
    run("CreateSparkJob without className -> 400 DLI.0001",
        lambda: expect_error(lambda: dli.create_spark_job(CreateSparkJobRequest(
            body=CreateSparkJobRequestBody(file="batchTest/spark-examples.jar", queue="default"))),
            400, "DLI.0001", "create batch(no className)"))
    run("ShowSparkJobStatus on an unknown batch -> 400 DLI.0002",
        lambda: expect_error(lambda: batch_state(UNKNOWN_JOB), 400, "DLI.0002",
                             "batch state(unknown)"))
    run("ShowSparkJobStatus on a SQL job's id -> 400 DLI.0002",
        lambda: expect_error(lambda: batch_state(a.running_job), 400, "DLI.0002",
                             "batch state(sql job)"))

    # Flink jobs: ShowFlinkJob, and BatchStopFlinkJobs (whose body is a JSON list).
    def flink_job(job):
        return dli.show_flink_job(ShowFlinkJobRequest(job_id=job))

    def flink_checks(r, raw, job, what):
        need_keys(raw, ["is_success", "message", "job_detail"], what)
        need(r.is_success == "true", "%s: is_success %r" % (what, r.is_success))
        d = r.job_detail
        need_keys(raw["job_detail"], ["job_id", "name", "job_type", "status", "create_time",
                                      "start_time", "duration", "queue_name", "run_mode",
                                      "restart_times"], what)
        need(d.job_id == job, "%s: job_id %r, asked for %r" % (what, d.job_id, job))
        need(d.status in FLINK_STATES, "%s: status %r is not one of DLI's" % (what, d.status))
        need(isinstance(d.restart_times, int) and d.restart_times >= 0,
             "%s: restart_times %r" % (what, d.restart_times))
        now_ms = time.time() * 1000
        need(isinstance(d.create_time, int) and abs(now_ms - d.create_time) < 86400e3,
             "%s: create_time %r is not epoch milliseconds of today" % (what, d.create_time))

    def running_flink():
        what = "flink job(running)"
        r = flink_job(a.running_flink)
        raw = verify(r, what)
        flink_checks(r, raw, a.running_flink, what)
        need(r.job_detail.status == "job_running", "%s: status %r" % (what, r.job_detail.status))
        need(r.job_detail.restart_times == 2, "%s: restart_times %r" % (what, r.job_detail.restart_times))
        return "%s, restart_times %d, type %s" % (r.job_detail.status, r.job_detail.restart_times,
                                                  r.job_detail.job_type)
    run("ShowFlinkJob on a running Flink job", running_flink)

    def finished_flink():
        what = "flink job(finished)"
        r = poll(lambda: flink_job(a.finishing_flink),
                 lambda r: r.job_detail.status == "job_finish", what)
        flink_checks(r, verify(r, what), a.finishing_flink, what)
        return "job_finish"
    run("ShowFlinkJob on a Flink job that finishes", finished_flink)

    def stop_flink():
        what = "stop flink job"
        r = dli.batch_stop_flink_jobs(BatchStopFlinkJobsRequest(body=StopFlinkJobsRequestBody(
            job_ids=[a.running_flink], trigger_savepoint=True)))
        raw = json.loads(r.raw_content.decode("utf-8"))
        need(isinstance(raw, list) and len(raw) == 1,
             "%s: the body is JSON %s, not a list of one result" % (what, json_kind(raw)))
        check_raw_model(raw[0], dli_models.FlinkSuccessResponse, what + "[0]")
        need(isinstance(r.body, list) and len(r.body) == 1
             and isinstance(r.body[0], dli_models.FlinkSuccessResponse),
             "%s: the SDK read %r" % (what, r.body))
        need(r.body[0].is_success == "true" and r.body[0].message,
             "%s: %r" % (what, r.body[0]))
        return "%r" % r.body[0].message
    run("BatchStopFlinkJobs (trigger_savepoint) on the running job", stop_flink)

    def stopped_flink():
        what = "flink job(stopped)"
        r = poll(lambda: flink_job(a.running_flink),
                 lambda r: r.job_detail.status == "job_cancel_success", what)
        flink_checks(r, verify(r, what), a.running_flink, what)
        need(r.job_detail.has_savepoint is True and r.job_detail.savepoint_path,
             "%s: no savepoint: %r" % (what, r.job_detail))
        return "job_cancel_success, savepoint %s" % r.job_detail.savepoint_path
    run("ShowFlinkJob on it: job_cancel_success, with its savepoint", stopped_flink)

    run("ShowFlinkJob on an unknown Flink job -> 400 DLI.0002",
        lambda: expect_error(lambda: flink_job(99999), 400, "DLI.0002", "flink job(unknown)"))

    # 7. Where the SDK's calls landed, as the simulator logged them (its /_sim/requests).
    def request_log():
        import urllib.request
        with urllib.request.urlopen(a.endpoint.rstrip("/") + "/_sim/requests", timeout=5) as f:
            log = json.loads(f.read().decode("utf-8"))
        need(isinstance(log, list) and log, "the simulator logged no requests")
        pid = re.escape(a.project_id)
        documented = [("GET", r"/v1/%s/jobs/[^/]+/progress" % pid),
                      ("GET", r"/v1\.0/%s/jobs/[^/]+/status" % pid),
                      ("GET", r"/v1\.0/%s/jobs/[^/]+/preview" % pid),
                      ("DELETE", r"/v1\.0/%s/jobs/[^/]+" % pid),
                      ("POST", r"/v1\.0/%s/jobs/submit-job" % pid),
                      ("GET", r"/v1\.0/%s/jobs" % pid),
                      ("GET", r"/v2\.0/%s/batches" % pid),
                      ("GET", r"/v2\.0/%s/batches/[^/]+/state" % pid),
                      ("GET", r"/v2\.0/%s/batches/[^/]+" % pid),
                      ("GET", r"/v2\.0/%s/batches/[^/]+/log" % pid),
                      ("DELETE", r"/v2\.0/%s/batches/[^/]+" % pid),
                      ("POST", r"/v2\.0/%s/batches" % pid),
                      ("GET", r"/v1\.0/%s/streaming/jobs/[0-9]+" % pid),
                      ("POST", r"/v1\.0/%s/streaming/jobs/stop" % pid)]
        for e in log:
            if e["path"].startswith("/_sim/"):
                continue
            need(any(e["method"] == m and re.fullmatch(rx, e["path"]) for m, rx in documented),
                 "the SDK sent %s %s, which is not a documented DLI path" % (e["method"], e["path"]))
        statuses = sorted({e["status"] for e in log if not e["path"].startswith("/_sim/")})
        need(statuses == [200, 400, 401], "HTTP statuses answered: %s" % statuses)
        return "%d requests, all on documented paths, statuses %s" % (len(log), statuses)
    run("the simulator saw the SDK use DLI's documented paths", request_log)

    print("all checks passed", flush=True)


if __name__ == "__main__":
    main()
