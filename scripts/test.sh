#!/usr/bin/env bash
# The project's test command: sets up the signing oracle (the official Huawei Cloud Python SDK,
# pinned, in .venv at the crate root) that the oracle tests (tests/it/signer_oracle.rs,
# tests/it/sdk_fidelity.rs) check against, then runs the whole test suite; with
# DLI_WAIT_ORACLE_PYTHON set, those tests fail without the oracle instead of skipping.
# Extra arguments go to `cargo test`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

SDK_VERSION=3.1.219
PYTHON=.venv/bin/python

if [ ! -x "$PYTHON" ]; then
    echo "scripts/test.sh: creating .venv for the signing oracle" >&2
    python3 -m venv .venv
fi
# Installed, importable and at the pinned version, or (re)install.
if ! "$PYTHON" - "$SDK_VERSION" 2>/dev/null <<'PY'
import sys
from importlib.metadata import version
import huaweicloudsdkcore.signer.signer, huaweicloudsdkdli  # noqa: F401
assert version("huaweicloudsdkcore") == version("huaweicloudsdkdli") == sys.argv[1]
PY
then
    echo "scripts/test.sh: installing huaweicloudsdkcore==$SDK_VERSION into .venv" >&2
    "$PYTHON" -m pip install --quiet --disable-pip-version-check \
        "huaweicloudsdkcore==$SDK_VERSION" "huaweicloudsdkdli==$SDK_VERSION"
fi

export DLI_WAIT_ORACLE_PYTHON="$PWD/.venv/bin/python"
# The tests mostly wait on child processes and timers, not on a core: 16 at once (measured on
# 2 cores: 56 s for the integration binary, against 210 s for the same tests one binary after
# another). RUST_TEST_THREADS set by the caller wins.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-16}"
exec cargo test --locked "$@"
