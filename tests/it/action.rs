//! The GitHub Action (`action.yml`) run the way a runner runs a composite action: its steps
//! in order, each `run:` with its `shell:`, the step `env:` expressions evaluated, and the
//! runner's files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_PATH, GITHUB_ENV) read back,
//! against the simulator and a release directory made from the freshly built binary.
//!
//! Unix only: the action's scripts are bash, and the release asset is the Linux one.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{BIN, Sim, TempDir, id};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// The action's own checkout (what GITHUB_ACTION_PATH points at).
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The longest one step may run.
const STEP_LIMIT: Duration = Duration::from_secs(30);

/// The release tag the fake releases are published under.
const VERSION: &str = "v9.9.9";

/// The asset action/install.sh picks on RUNNER_OS=Linux, RUNNER_ARCH=X64.
const ASSET: &str = "dli-wait-x86_64-unknown-linux-musl.tar.gz";

/// A PATH with the system tools the scripts use, and no cargo (a silent fallback to a
/// source build must fail here, not take minutes).
const SYSTEM_PATH: &str = "/usr/bin:/bin";

/// Fast polling, so a wait ends within a few hundred milliseconds of its job.
const FAST: &[(&str, &str)] = &[
    ("poll-interval", "100ms"),
    ("max-poll-interval", "300ms"),
    ("timeout", "20s"),
];

// --- action.yml -------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct Action {
    inputs: BTreeMap<String, Input>,
    outputs: BTreeMap<String, Output>,
    runs: Runs,
}

#[derive(Debug, Deserialize)]
struct Input {
    #[serde(default)]
    default: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Output {
    value: String,
}

#[derive(Debug, Deserialize)]
struct Runs {
    using: String,
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
struct Step {
    id: Option<String>,
    name: Option<String>,
    shell: Option<String>,
    run: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(rename = "if")]
    condition: Option<String>,
    uses: Option<String>,
}

fn action() -> Action {
    let text = std::fs::read_to_string(format!("{ROOT}/action.yml")).expect("read action.yml");
    serde_yaml_ng::from_str(&text).expect("action.yml parses")
}

/// Evaluate the `${{ … }}` expressions of a step's `env:` value: `inputs.<name>` and the few
/// `github.<key>` the action uses. Anything else (an unknown input included) fails the test,
/// so a new kind of expression gets a decision here rather than an empty string.
fn evaluate(
    value: &str,
    contexts: &BTreeMap<String, BTreeMap<String, String>>,
    what: &str,
) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .unwrap_or_else(|| panic!("{what}: unclosed expression in {value:?}"))
            + start;
        let expr = rest[start + 3..end].trim();
        let value = expr
            .split_once('.')
            .filter(|(_, key)| {
                !key.contains(|c: char| c.is_whitespace() || "()[]=!&|'\"".contains(c))
            })
            .and_then(|(context, key)| contexts.get(context)?.get(key))
            .cloned()
            .unwrap_or_else(|| panic!("{what}: this runner does not know ${{{{ {expr} }}}}"));
        out.push_str(&value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The runner's `name=value` / `name<<DELIM … DELIM` file format (GITHUB_OUTPUT, GITHUB_ENV).
fn parse_commands_file(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim().is_empty() {
            continue;
        }
        let equals = line.find('=');
        let heredoc = line.find("<<");
        match (equals, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                out.insert(line[..e].to_string(), line[e + 1..].to_string());
            }
            (_, Some(h)) => {
                let (name, delim) = (&line[..h], &line[h + 2..]);
                assert!(!delim.is_empty(), "empty heredoc delimiter in {line:?}");
                let mut value = Vec::new();
                loop {
                    let l = lines.next().unwrap_or_else(|| {
                        panic!("heredoc {delim} for {name} never ends:\n{text}")
                    });
                    if l == delim {
                        break;
                    }
                    value.push(l);
                }
                out.insert(name.to_string(), value.join("\n"));
            }
            _ => panic!("not a name=value or name<<DELIM line: {line:?}\n{text}"),
        }
    }
    out
}

// --- a runner ---------------------------------------------------------------------------------

/// Publish `binary` as release `VERSION` under `base` (`<base>/download/<tag>/<asset>`), with
/// its `.sha256` in sha256sum's format.
fn publish_release(base: &Path, binary: &Path) -> PathBuf {
    publish_release_as(base, binary, VERSION)
}

/// Publish `binary` as release `tag` under `base`.
fn publish_release_as(base: &Path, binary: &Path, tag: &str) -> PathBuf {
    let dir = base.join("download").join(tag);
    std::fs::create_dir_all(&dir).unwrap();
    let stage = base.join("stage");
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::copy(binary, stage.join("dli-wait")).expect("copy the binary");
    let asset = dir.join(ASSET);
    // gzip -1: the debug binary is large, and the level does not matter here.
    let status = Command::new("bash")
        .args(["-o", "pipefail", "-c"])
        .args([r#"tar -cf - -C "$1" dli-wait | gzip -1 >"$2""#, "bash"])
        .arg(&stage)
        .arg(&asset)
        .status()
        .expect("run tar");
    assert!(status.success(), "tar | gzip failed");
    std::fs::remove_dir_all(&stage).unwrap();
    let sha = sha256_hex(&asset);
    std::fs::write(
        dir.join(format!("{ASSET}.sha256")),
        format!("{sha}  {ASSET}\n"),
    )
    .unwrap();
    asset
}

fn sha256_hex(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// One release of the freshly built binary, shared by the tests that only read it. It lives
/// in cargo's scratch directory for tests (a static is never dropped, so a temporary directory
/// would be left behind), made afresh by each run of this file.
fn shared_release() -> &'static Path {
    static RELEASE: OnceLock<PathBuf> = OnceLock::new();
    RELEASE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("action-release");
        let fresh = dir.with_extension(format!("{}.tmp", std::process::id()));
        let _ = std::fs::remove_dir_all(&fresh);
        publish_release(&fresh, Path::new(BIN));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(&fresh, &dir).expect("move the release into place");
        dir
    })
}

/// What one step did.
#[derive(Debug)]
struct StepRun {
    label: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
    summary: String,
}

impl StepRun {
    fn all(&self) -> String {
        format!(
            "step {} exited {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}\n--- outputs ---\n{:?}\n--- summary ---\n{}",
            self.label, self.code, self.stdout, self.stderr, self.outputs, self.summary
        )
    }
}

/// What the whole action did: its steps (those that ran) and its outputs.
#[derive(Debug)]
struct ActionRun {
    steps: Vec<StepRun>,
    outputs: BTreeMap<String, String>,
}

impl ActionRun {
    fn step(&self, id: &str) -> &StepRun {
        self.steps
            .iter()
            .find(|s| s.label == id)
            .unwrap_or_else(|| panic!("step {id} did not run: {:#?}", self.steps))
    }

    /// The exit code of the action: that of its first failing step, else 0.
    fn code(&self) -> Option<i32> {
        self.steps
            .iter()
            .map(|s| s.code)
            .find(|c| *c != Some(0))
            .unwrap_or(Some(0))
    }

    fn all(&self) -> String {
        let steps: Vec<String> = self.steps.iter().map(StepRun::all).collect();
        format!(
            "{}\n=== action outputs: {:?}",
            steps.join("\n"),
            self.outputs
        )
    }
}

/// One job's runner: a workspace, a tool cache, and the files a runner hands to steps. The
/// files that last for the job (GITHUB_PATH, GITHUB_ENV) are applied to the steps after the
/// one that wrote them, as the runner does.
struct Runner {
    dir: TempDir,
    /// `uses: owner/dli-wait@<ref>`: the github.action_ref the action sees ("" for `./`).
    action_ref: String,
    /// The job's `env:` (what the workflow sets for the step, credentials included).
    env: Vec<(String, String)>,
    /// The PATH before any step added to it.
    base_path: String,
    /// Steps run so far (names the per-step files).
    ran: usize,
}

impl Runner {
    fn new(release_base: &Path) -> Runner {
        let dir = TempDir::new("runner");
        for d in ["workspace", "tool-cache", "temp", "home", "files"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        for f in ["path", "env"] {
            std::fs::write(dir.path().join("files").join(f), "").unwrap();
        }
        Runner {
            dir,
            action_ref: String::new(),
            env: vec![(
                "DLI_WAIT_RELEASE_BASE_URL".into(),
                format!("file://{}", release_base.display()),
            )],
            base_path: SYSTEM_PATH.into(),
            ran: 0,
        }
    }

    /// Point the job at the simulator, with its keys as the workflow's secrets would be.
    fn with_sim(mut self, sim: &Sim) -> Runner {
        self.env.extend([
            ("DLI_ENDPOINT".into(), sim.endpoint.clone()),
            ("HUAWEICLOUD_SDK_PROJECT_ID".into(), sim.project_id.clone()),
            ("HUAWEICLOUD_SDK_AK".into(), sim.ak.clone()),
            ("HUAWEICLOUD_SDK_SK".into(), sim.sk.clone()),
        ]);
        self
    }

    fn tool_cache(&self) -> PathBuf {
        self.dir.path().join("tool-cache")
    }

    /// The lines the steps so far appended to GITHUB_PATH.
    fn added_paths(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("files/path"))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Run the action's steps (all of them, or the first `limit`) with these `with:` inputs.
    /// Like a composite action without `if:`s, it stops at the first step that fails.
    fn run(&mut self, with: &[(&str, &str)], limit: Option<usize>) -> ActionRun {
        let action = action();
        assert_eq!(action.runs.using, "composite");
        let mut inputs: BTreeMap<String, String> = action
            .inputs
            .iter()
            .map(|(k, v)| (k.clone(), v.default.clone().unwrap_or_default()))
            .collect();
        for (k, v) in with {
            assert!(inputs.contains_key(*k), "action.yml has no input {k}");
            inputs.insert((*k).to_string(), (*v).to_string());
        }
        let github: BTreeMap<String, String> = [
            ("action_ref".to_string(), self.action_ref.clone()),
            // What the runner gives a local action (`uses: ./`): no repository of its own.
            ("action_repository".to_string(), String::new()),
        ]
        .into();
        let contexts = BTreeMap::from([
            ("inputs".to_string(), inputs),
            ("github".to_string(), github),
        ]);
        let mut steps = Vec::new();
        let mut step_outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for step in action.runs.steps.iter().take(limit.unwrap_or(usize::MAX)) {
            let run = self.run_step(step, &contexts);
            let failed = run.code != Some(0);
            if let Some(id) = &step.id {
                step_outputs.insert(id.clone(), run.outputs.clone());
            }
            steps.push(run);
            if failed {
                break;
            }
        }
        // The action's outputs: `${{ steps.<id>.outputs.<name> }}`, evaluated like the runner.
        let mut outputs = BTreeMap::new();
        for (name, output) in &action.outputs {
            let expr = output.value.trim();
            let inner = expr
                .strip_prefix("${{")
                .and_then(|e| e.strip_suffix("}}"))
                .map(str::trim)
                .unwrap_or_else(|| panic!("output {name}: not one expression: {expr}"));
            let (step_id, key) = inner
                .strip_prefix("steps.")
                .and_then(|r| r.split_once(".outputs."))
                .unwrap_or_else(|| panic!("output {name}: not steps.<id>.outputs.<name>: {expr}"));
            let value = step_outputs
                .get(step_id)
                .and_then(|o| o.get(key))
                .cloned()
                .unwrap_or_default();
            outputs.insert(name.clone(), value);
        }
        ActionRun { steps, outputs }
    }

    fn run_step(
        &mut self,
        step: &Step,
        contexts: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> StepRun {
        self.ran += 1;
        let label = step
            .id
            .clone()
            .or_else(|| step.name.clone())
            .unwrap_or_else(|| self.ran.to_string());
        assert!(
            step.uses.is_none(),
            "step {label}: this runner runs only run: steps"
        );
        assert!(
            step.condition.is_none(),
            "step {label}: this runner does not evaluate if:"
        );
        let script = step
            .run
            .as_deref()
            .unwrap_or_else(|| panic!("step {label} has no run:"));
        assert_eq!(
            step.shell.as_deref(),
            Some("bash"),
            "step {label}: composite run steps must name their shell, and this one is bash"
        );
        let files = self.dir.path().join("files");
        let script_file = files.join(format!("step-{}.sh", self.ran));
        let output_file = files.join(format!("output-{}", self.ran));
        let summary_file = files.join(format!("summary-{}", self.ran));
        std::fs::write(&script_file, script).unwrap();
        std::fs::write(&output_file, "").unwrap();
        std::fs::write(&summary_file, "").unwrap();

        // PATH: what earlier steps added (the latest first), then the job's.
        let mut path: Vec<String> = self.added_paths().into_iter().rev().collect();
        path.push(self.base_path.clone());
        let job_env = parse_commands_file(&std::fs::read_to_string(files.join("env")).unwrap());

        // The runner's bash: `bash --noprofile --norc -eo pipefail {0}`.
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script_file)
            .current_dir(self.dir.path().join("workspace"))
            .env_clear()
            .env("HOME", self.dir.path().join("home"))
            .env("LANG", "C.UTF-8")
            .env("PATH", path.join(":"))
            .env("CI", "true")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_ACTION_PATH", ROOT)
            .env("GITHUB_WORKSPACE", self.dir.path().join("workspace"))
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", &summary_file)
            .env("GITHUB_PATH", files.join("path"))
            .env("GITHUB_ENV", files.join("env"))
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TEMP", self.dir.path().join("temp"))
            .env("RUNNER_TOOL_CACHE", self.tool_cache())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in self.env.iter().map(|(k, v)| (k, v)).chain(&job_env) {
            cmd.env(k, v);
        }
        for (k, v) in &step.env {
            cmd.env(k, evaluate(v, contexts, &format!("step {label}, env {k}")));
        }
        let mut child = cmd.spawn().expect("start bash");
        let drain = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = r.read_to_string(&mut s);
                s
            })
        };
        let out = drain(Box::new(child.stdout.take().unwrap()));
        let err = drain(Box::new(child.stderr.take().unwrap()));
        let status = common::wait_bounded(&mut child, STEP_LIMIT);
        StepRun {
            label,
            code: status.code(),
            stdout: out.join().unwrap(),
            stderr: err.join().unwrap(),
            outputs: parse_commands_file(&std::fs::read_to_string(&output_file).unwrap()),
            summary: std::fs::read_to_string(&summary_file).unwrap(),
        }
    }
}

fn with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    FAST.iter().chain(extra).copied().collect()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                found.push(p);
            }
        }
    }
    found
}

// --- the stories ------------------------------------------------------------------------------

#[test]
fn action_yml_passes_inputs_only_through_env() {
    let action = action();
    let mut referenced = Vec::new();
    for step in &action.runs.steps {
        if let Some(run) = &step.run {
            assert!(
                !run.contains("${{"),
                "an expression inside run: can inject shell code; pass it through env:\n{run}"
            );
            assert!(
                step.shell.is_some(),
                "composite run steps must name their shell"
            );
        }
        for value in step.env.values() {
            if let Some(name) = value
                .trim()
                .strip_prefix("${{ inputs.")
                .and_then(|r| r.strip_suffix(" }}"))
            {
                referenced.push(name.to_string());
            }
        }
    }
    for name in action.inputs.keys() {
        assert!(
            referenced.contains(name),
            "input {name} reaches no step (through env:)"
        );
    }
    for (name, output) in &action.outputs {
        assert_eq!(
            output.value,
            format!("${{{{ steps.wait.outputs.{name} }}}}"),
            "output {name} should map the wait step's output of the same name"
        );
    }
    assert!(
        action
            .inputs
            .keys()
            .all(|k| !k.to_ascii_lowercase().contains("secret")
                && !k.ends_with("-sk")
                && !k.contains("token")),
        "no secret is an input: credentials come from the step's env"
    );
}

#[test]
fn a_finished_job_passes_and_a_failed_job_fails_with_dli_reason() {
    let release = shared_release(); // first: the jobs' clocks start with the simulator
    let sim = Sim::start("action.json");
    let mut runner = Runner::new(release).with_sim(&sim);

    // Installed from the release, verified, cached, and put on PATH.
    let ok = runner.run(
        &with(&[("job-id", id("action-finishes")), ("version", VERSION)]),
        None,
    );
    let install = ok.step("install");
    assert_eq!(install.code, Some(0), "{}", ok.all());
    assert!(
        install.stdout.contains(&format!(
            "verified SHA-256 {}",
            sha256_hex(&shared_release().join("download").join(VERSION).join(ASSET))
        )),
        "{}",
        ok.all()
    );
    let bin_dir = runner
        .tool_cache()
        .join("dli-wait")
        .join(VERSION)
        .join("x64")
        .join("bin");
    assert!(bin_dir.join("dli-wait").is_file(), "{}", ok.all());
    assert!(
        runner
            .tool_cache()
            .join("dli-wait")
            .join(VERSION)
            .join("x64.complete")
            .is_file(),
        "{}",
        ok.all()
    );
    assert_eq!(runner.added_paths(), vec![bin_dir.display().to_string()]);

    // The job FINISHED: exit 0, and the outputs and summary say so.
    let wait = ok.step("wait");
    assert_eq!(ok.code(), Some(0), "{}", ok.all());
    assert_eq!(ok.outputs["status"], "FINISHED", "{}", ok.all());
    assert_eq!(ok.outputs["exit-code"], "0");
    assert_eq!(ok.outputs["job-id"], id("action-finishes"));
    assert_eq!(ok.outputs["message"], "");
    ok.outputs["duration-seconds"]
        .parse::<u64>()
        .unwrap_or_else(|_| panic!("duration-seconds is a whole number\n{}", ok.all()));
    let polls: u32 = ok.outputs["polls"].parse().expect("polls is a number");
    assert!(polls >= 1, "{}", ok.all());
    assert!(
        wait.summary
            .contains(&format!("`{}`", id("action-finishes"))),
        "{}",
        ok.all()
    );
    assert!(wait.summary.contains("FINISHED"), "{}", ok.all());
    assert!(wait.stderr.contains("::group::"), "{}", ok.all());

    // The job FAILED: exit 1, DLI's reason in the outputs, the summary and an annotation. The
    // second run finds the binary in the tool cache.
    let bad = runner.run(
        &with(&[("job-id", id("action-fails")), ("version", VERSION)]),
        None,
    );
    assert!(
        bad.step("install").stdout.contains("in the tool cache"),
        "{}",
        bad.all()
    );
    let wait = bad.step("wait");
    assert_eq!(bad.code(), Some(1), "{}", bad.all());
    assert_eq!(bad.outputs["status"], "FAILED", "{}", bad.all());
    assert_eq!(bad.outputs["exit-code"], "1");
    assert_eq!(bad.outputs["job-id"], id("action-fails"));
    let reason = "Table or view not found: sales.orders_tmp";
    assert!(bad.outputs["message"].contains(reason), "{}", bad.all());
    assert!(
        wait.summary.contains(&format!("`{}`", id("action-fails"))),
        "{}",
        bad.all()
    );
    assert!(wait.summary.contains("FAILED"), "{}", bad.all());
    assert!(wait.summary.contains(reason), "{}", bad.all());
    assert!(
        wait.stderr.lines().any(|l| l.starts_with("::error ")
            && l.contains(id("action-fails"))
            && l.contains(reason)),
        "{}",
        bad.all()
    );

    // The secret key came from the workflow (its environment), which GitHub masks already:
    // never `::add-mask::`ed, which would print it in every captured copy of stderr (issue 25,
    // item 6); and written nowhere.
    for run in [&ok, &bad] {
        let wait = run.step("wait");
        assert!(!wait.stderr.contains(&sim.sk), "{}", run.all());
        for text in [&wait.stdout, &wait.summary, &format!("{:?}", run.outputs)] {
            assert!(
                !text.contains(&sim.sk),
                "the secret key leaked:\n{}",
                run.all()
            );
        }
    }
}

#[test]
fn several_job_ids_split_on_any_whitespace() {
    let release = shared_release(); // first: the jobs' clocks start with the simulator
    let sim = Sim::start("action.json");
    let mut runner = Runner::new(release).with_sim(&sim);
    let run = runner.run(
        &with(&[
            (
                "job-id",
                &format!(
                    "  {}\n\t{} \n",
                    id("action-finishes"),
                    id("action-finishes-too")
                ),
            ),
            ("version", VERSION),
        ]),
        None,
    );
    assert_eq!(run.code(), Some(0), "{}", run.all());
    assert_eq!(
        run.outputs["job-id"],
        format!("{} {}", id("action-finishes"), id("action-finishes-too"))
    );
    assert_eq!(run.outputs["status"], "FINISHED");
    let summary = &run.step("wait").summary;
    assert!(
        summary.contains(&format!("`{}`", id("action-finishes")))
            && summary.contains(&format!("`{}`", id("action-finishes-too"))),
        "{}",
        run.all()
    );
}

#[test]
fn sql_is_submitted_then_waited_for() {
    let release = shared_release(); // first: the jobs' clocks start with the simulator
    let sim = Sim::start("action.json");
    let mut runner = Runner::new(release).with_sim(&sim);
    let run = runner.run(
        &with(&[
            (
                "sql",
                "-- nightly load\nINSERT INTO sales.daily SELECT * FROM sales.orders",
            ),
            ("queue", "etl"),
            ("version", VERSION),
        ]),
        None,
    );
    assert_eq!(run.code(), Some(0), "{}", run.all());
    assert_eq!(run.outputs["status"], "FINISHED", "{}", run.all());
    let job = &run.outputs["job-id"];
    assert!(
        !job.is_empty() && !sim.jobs.iter().any(|j| &j.id == job),
        "job-id is the new job's: {job:?}\n{}",
        run.all()
    );
    assert!(
        sim.requests()
            .iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/jobs/submit-job")),
        "the SQL was submitted"
    );
}

/// `fail-if-rows`: a check query that returns rows fails the step with exit 6, and the outputs
/// carry DLI's figures; the same check on DLI's default queue is refused before the submit.
#[test]
fn a_check_with_rows_fails_the_step_with_6_and_dlis_figures() {
    let release = shared_release(); // first: the jobs' clocks start with the simulator
    let sim = Sim::start("action.json");
    let mut runner = Runner::new(release).with_sim(&sim);
    // The check step of examples/workflows/data-check.yml, as it is written (its SQL, queue and
    // fail-if-rows; the simulator stands for the region and project, the timing is quick).
    let example: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(format!("{ROOT}/examples/workflows/data-check.yml")).unwrap(),
    )
    .unwrap();
    let step = &example["jobs"]["check"]["steps"][0]["with"];
    let input = |name: &str| step[name].as_str().unwrap_or_default().to_string();
    let (sql, fail_if_rows, cancel_on) = (input("sql"), input("fail-if-rows"), input("cancel-on"));
    assert_eq!(
        (input("queue").as_str(), fail_if_rows.as_str()),
        ("etl", "true")
    );
    let check = |queue: &'static str| {
        with(&[
            ("sql", sql.as_str()),
            ("queue", queue),
            ("fail-if-rows", fail_if_rows.as_str()),
            ("cancel-on", cancel_on.as_str()),
            ("version", VERSION),
        ])
    };
    let run = runner.run(&check("etl"), None);
    assert_eq!(run.code(), Some(6), "{}", run.all());
    assert_eq!(run.outputs["status"], "CHECK_FAILED", "{}", run.all());
    assert_eq!(run.outputs["exit-code"], "6");
    assert_eq!(run.outputs["rows"], "2", "{}", run.all());
    assert_eq!(run.outputs["result-rows"], "2");
    assert_eq!(run.outputs["bytes-scanned"], "4096");
    assert!(
        run.outputs["dli-duration-ms"].parse::<u64>().is_ok(),
        "{}",
        run.all()
    );
    assert!(
        run.outputs["message"].contains("the query returned 2 rows (--fail-if-rows); first: 7; 9"),
        "{}",
        run.all()
    );
    let submits = |sim: &Sim| {
        sim.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/jobs/submit-job"))
            .count()
    };
    let before = submits(&sim);
    let refused = runner.run(&check("default"), None);
    assert_eq!(refused.code(), Some(2), "{}", refused.all());
    assert_eq!(refused.outputs["status"], "ERROR", "{}", refused.all());
    assert_eq!(
        submits(&sim),
        before,
        "a check on the default queue was submitted"
    );
    // With no-wait the check could never be made: the binary's refusal is the step's message.
    let mut no_wait = check("etl");
    no_wait.push(("no-wait", "true"));
    let refused = runner.run(&no_wait, None);
    assert_eq!(refused.code(), Some(2), "{}", refused.all());
    assert_eq!(refused.outputs["status"], "ERROR", "{}", refused.all());
    assert!(
        refused.outputs["message"]
            .contains("--fail-if-rows needs the job to end: not with --no-wait"),
        "{}",
        refused.all()
    );
    assert_eq!(submits(&sim), before, "a no-wait check was submitted");
}

/// A release whose "binary" notes the arguments it was run with in `log`, then runs the real
/// dli-wait: what the action passed, seen as dli-wait sees it.
fn release_noting_arguments(dir: &Path, log: &Path) -> PathBuf {
    let shim = dir.join("dli-wait");
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" '---' >>'{}'\nexec '{BIN}' \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&shim, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let base = dir.join("release");
    publish_release(&base, &shim);
    base
}

/// The inputs `database`, `no-wait`, `summary-file` and `fail-fast` reach dli-wait as its
/// flags; `no-wait` passes at once with status SUBMITTED and the new job's id, and a later
/// step waits for that id.
#[test]
fn database_no_wait_summary_file_and_fail_fast_inputs() {
    let dir = TempDir::new("action-inputs");
    let log = dir.path().join("argv");
    let release = release_noting_arguments(dir.path(), &log);
    let sim = Sim::start("action.json");
    let mut runner = Runner::new(&release).with_sim(&sim);
    let submit = runner.run(
        &with(&[
            ("sql", "INSERT INTO sales.daily SELECT * FROM sales.orders"),
            ("database", "sales"),
            ("no-wait", "true"),
            ("summary-file", "dli-summary.json"),
            ("version", VERSION),
        ]),
        None,
    );
    assert_eq!(submit.code(), Some(0), "{}", submit.all());
    let argv = std::fs::read_to_string(&log).unwrap();
    for arg in [
        "--database=sales",
        "--no-wait",
        "--summary-file=dli-summary.json",
    ] {
        assert!(argv.lines().any(|l| l == arg), "{arg} not passed:\n{argv}");
    }
    // Submitted, not waited for: said so, with the id a later step waits for.
    let job = submit.outputs["job-id"].clone();
    assert!(
        !job.is_empty() && !sim.jobs.iter().any(|j| j.id == job),
        "{}",
        submit.all()
    );
    assert_eq!(submit.outputs["status"], "SUBMITTED", "{}", submit.all());
    assert_eq!(submit.outputs["exit-code"], "0");
    assert!(
        submit.outputs["message"].contains(&format!("dli-wait -- {job}")),
        "{}",
        submit.all()
    );
    assert!(
        submit
            .step("wait")
            .summary
            .contains(&format!("`{job}` | SUBMITTED")),
        "{}",
        submit.all()
    );
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(runner.dir.path().join("workspace/dli-summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["exit_code"], 0, "{summary}");

    // A later step waits for it (and another job) with fail-fast.
    let wait = runner.run(
        &with(&[
            ("job-id", &format!("{job} {}", id("action-fails"))),
            ("fail-fast", "true"),
            ("version", VERSION),
        ]),
        None,
    );
    assert_eq!(wait.code(), Some(1), "{}", wait.all());
    assert_eq!(wait.outputs["status"], "FAILED", "{}", wait.all());
    let argv = std::fs::read_to_string(&log).unwrap();
    let last = argv
        .trim_end_matches("---\n")
        .rsplit("---\n")
        .next()
        .unwrap();
    assert!(last.lines().any(|l| l == "--fail-fast"), "{argv}");
    assert!(!last.lines().any(|l| l == "--no-wait"), "{argv}");
}

#[test]
fn spark_batches_are_waited_for_and_submitted() {
    let release = shared_release(); // first: the jobs' clocks start with the simulator
    let sim = Sim::start("action.json");
    let mut runner = Runner::new(release).with_sim(&sim);
    let batch = id("action-batch-succeeds");
    let run = runner.run(
        &with(&[
            ("job-id", batch),
            ("job-type", "spark"),
            ("version", VERSION),
        ]),
        None,
    );
    assert_eq!(run.code(), Some(0), "{}", run.all());
    assert_eq!(run.outputs["status"], "FINISHED", "{}", run.all());
    let state = format!("/v2.0/{}/batches/{batch}/state", sim.project_id);
    assert!(
        sim.requests().iter().any(|r| r.path == state),
        "polled as a batch: {:?}",
        sim.requests()
    );

    // spark-file: the batch's JSON, relative to the workspace.
    let dir = runner.dir.path().join("workspace/spark");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("transform.json"),
        r#"{"file": "batchTest/transform.jar", "className": "com.example.Transform", "queue": "etl"}"#,
    )
    .unwrap();
    let run = runner.run(
        &with(&[("spark-file", "spark/transform.json"), ("version", VERSION)]),
        None,
    );
    assert_eq!(run.code(), Some(0), "{}", run.all());
    assert_eq!(run.outputs["status"], "FINISHED", "{}", run.all());
    let job = &run.outputs["job-id"];
    assert!(
        dli_wait::dli::job_id::is_job_id(job) && !sim.jobs.iter().any(|j| &j.id == job),
        "job-id is the new batch's: {job:?}\n{}",
        run.all()
    );
    let create = format!("/v2.0/{}/batches", sim.project_id);
    let posts = sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == create)
        .count();
    assert_eq!(posts, 1, "{:?}", sim.requests());
}

/// The streaming deploy gate of examples/workflows/flink-deploy-gate.yml, run as written
/// (its `with:`), against the simulator's Flink jobs: only the job id (the workflow's input)
/// and the window (2 minutes there, 2 s here) are the test's. A job that runs steadily
/// passes with status RUNNING; one that restarts inside the window (DLI restarts it every
/// second) fails the step.
#[test]
fn the_flink_deploy_gate_example_passes_a_steady_job_and_fails_one_that_restarts() {
    let release = shared_release(); // first: the jobs' clocks start with the simulator
    let text = std::fs::read_to_string(format!("{ROOT}/examples/workflows/flink-deploy-gate.yml"))
        .unwrap();
    let wf: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let step = wf["jobs"]["gate"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.contains("/dli-wait@")))
        .unwrap();
    let inputs: Vec<(String, String)> = step["with"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_string(),
                v.as_str().unwrap().to_string(),
            )
        })
        .filter(|(k, _)| !["region", "project-id", "timeout"].contains(&k.as_str()))
        .collect();
    let get = |k: &str| inputs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(
        (get("job-type"), get("until"), get("settle")),
        (Some("flink"), Some("running"), Some("2m")),
        "the example is the gate README shows"
    );
    let gate = |sim: &Sim, job: &str| {
        let mut runner = Runner::new(release).with_sim(sim);
        let mut with: Vec<(&str, &str)> = inputs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .filter(|(k, _)| !["job-id", "settle"].contains(k))
            .collect();
        with.extend([("job-id", job), ("settle", "2s"), ("version", VERSION)]);
        let with = self::with(&with);
        runner.run(&with, None)
    };
    let sim = Sim::start("flink.json");
    let run = gate(&sim, "50003");
    assert_eq!(run.code(), Some(0), "{}", run.all());
    assert_eq!(run.outputs["status"], "RUNNING", "{}", run.all());
    assert!(
        run.outputs["message"].contains("stayed running for 2s"),
        "{}",
        run.all()
    );
    let sim = Sim::start("flink.json");
    let run = gate(&sim, "50009");
    assert_eq!(run.code(), Some(4), "{}", run.all());
    assert_eq!(run.outputs["status"], "STALLED", "{}", run.all());
    assert!(
        run.outputs["message"].contains("did not stay running for 2s"),
        "{}",
        run.all()
    );
}

#[test]
fn the_default_version_is_the_action_ref_when_it_is_a_release_tag() {
    let mut runner = Runner::new(shared_release());
    runner.action_ref = VERSION.into();
    let run = runner.run(&[], Some(1));
    assert_eq!(run.code(), Some(0), "{}", run.all());
    assert!(
        runner
            .tool_cache()
            .join("dli-wait")
            .join(VERSION)
            .join("x64/bin/dli-wait")
            .is_file(),
        "{}",
        run.all()
    );
}

#[test]
fn a_tampered_release_is_refused_and_nothing_is_installed() {
    let release = TempDir::new("tampered");
    let asset = publish_release(release.path(), Path::new(BIN));
    // After the checksum was published, the asset is swapped for one whose dli-wait is not ours.
    let evil = TempDir::new("evil");
    std::fs::write(
        evil.path().join("dli-wait"),
        "#!/bin/sh\necho TAMPERED BINARY RAN\n",
    )
    .unwrap();
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&asset)
        .arg("-C")
        .arg(evil.path())
        .arg("dli-wait")
        .status()
        .unwrap();
    assert!(status.success());

    let sim = Sim::start("action.json");
    let mut runner = Runner::new(release.path()).with_sim(&sim);
    let run = runner.run(
        &with(&[("job-id", id("action-finishes")), ("version", VERSION)]),
        None,
    );
    let install = run.step("install");
    assert_ne!(install.code, Some(0), "{}", run.all());
    assert!(
        install
            .stdout
            .contains("::error title=dli-wait install::checksum mismatch")
            && install.stderr.contains("checksum mismatch"),
        "{}",
        run.all()
    );
    assert!(
        install.stderr.contains("refusing to install"),
        "{}",
        run.all()
    );
    assert_eq!(
        run.steps.len(),
        1,
        "the wait step must not run\n{}",
        run.all()
    );
    assert!(
        !format!("{}{}", install.stdout, install.stderr).contains("TAMPERED BINARY RAN"),
        "{}",
        run.all()
    );
    assert!(runner.added_paths().is_empty(), "{}", run.all());
    let cached = files_under(&runner.tool_cache());
    assert!(
        cached.is_empty(),
        "nothing may land in the tool cache: {cached:?}"
    );
}

/// A `cargo` that records its arguments and "builds" by copying the tested binary to
/// `<root>/bin/dli-wait`, as `cargo install --root <root>` would.
fn fake_cargo(dir: &Path, log: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let script = format!(
        r#"#!/bin/sh
printf '%s\n' "$@" >"{log}"
root=""
while [ $# -gt 0 ]; do
    if [ "$1" = --root ]; then root="$2"; fi
    shift
done
mkdir -p "$root/bin" && cp "{bin}" "$root/bin/dli-wait"
"#,
        log = log.display(),
        bin = BIN
    );
    let cargo = dir.join("cargo");
    std::fs::write(&cargo, script).unwrap();
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Pinned by commit SHA (as security guides advise), the action installs the release of the
/// version in its own Cargo.toml: the code of that commit, not whatever `latest` is today.
#[test]
fn pinned_by_commit_the_action_installs_its_own_version() {
    let own = format!("v{}", env!("CARGO_PKG_VERSION"));
    let release = TempDir::new("own-version");
    publish_release_as(release.path(), Path::new(BIN), &own);
    let mut runner = Runner::new(release.path());
    runner.action_ref = "0123456789abcdef0123456789abcdef01234567".into();
    let run = runner.run(&[], Some(1));
    assert_eq!(run.code(), Some(0), "{}", run.all());
    assert!(
        runner
            .tool_cache()
            .join("dli-wait")
            .join(&own)
            .join("x64/bin/dli-wait")
            .is_file(),
        "{}",
        run.all()
    );
}

/// `version: source` builds the action's own checkout with cargo, into the tool cache.
#[test]
fn version_source_builds_the_actions_own_checkout() {
    let empty_release = TempDir::new("no-release");
    let mut runner = Runner::new(empty_release.path());
    let bin_dir = runner.dir.path().join("fake-cargo");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let log = runner.dir.path().join("cargo-args");
    fake_cargo(&bin_dir, &log);
    runner.base_path = format!("{}:{SYSTEM_PATH}", bin_dir.display());

    let run = runner.run(&[("version", "source")], Some(1));
    let install = run.step("install");
    assert_eq!(install.code, Some(0), "{}", run.all());
    let args: Vec<String> = std::fs::read_to_string(&log)
        .expect("cargo was run")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        args[..4],
        ["install", "--locked", "--path", ROOT],
        "{args:?}"
    );
    assert_eq!(args[4], "--root", "{args:?}");
    let dest = runner
        .tool_cache()
        .join("dli-wait")
        .join("source")
        .join("x64");
    assert!(
        Path::new(&args[5]).starts_with(runner.tool_cache().join("dli-wait")),
        "cargo installs into the tool cache: {args:?}"
    );
    assert!(dest.join("bin/dli-wait").is_file(), "{}", run.all());
    assert_eq!(
        runner.added_paths(),
        vec![dest.join("bin").display().to_string()]
    );
}

/// A named version with no release is an error that says so, even with cargo at hand: no
/// silent build of minutes, and nothing cached under a release's name.
#[test]
fn a_version_without_a_release_is_an_error_and_nothing_is_built() {
    let empty_release = TempDir::new("no-release-named");
    let mut runner = Runner::new(empty_release.path());
    let bin_dir = runner.dir.path().join("fake-cargo");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let log = runner.dir.path().join("cargo-args");
    fake_cargo(&bin_dir, &log);
    runner.base_path = format!("{}:{SYSTEM_PATH}", bin_dir.display());

    let run = runner.run(&[("version", VERSION)], Some(1));
    let install = run.step("install");
    assert_eq!(install.code, Some(1), "{}", run.all());
    assert!(
        install.stderr.contains("no release asset")
            && install.stderr.contains(VERSION)
            && install.stderr.contains("source"),
        "{}",
        run.all()
    );
    assert!(!log.exists(), "cargo must not run");
    assert!(runner.added_paths().is_empty());
    let cached = files_under(&runner.tool_cache());
    assert!(cached.is_empty(), "nothing cached: {cached:?}");
}

#[test]
fn inputs_that_make_no_sense_exit_2_with_outputs() {
    let mut runner = Runner::new(shared_release());
    for (inputs, words) in [
        (vec![], "set job-id"),
        (
            vec![("job-id", id("action-finishes")), ("sql", "SELECT 1")],
            "not both",
        ),
        (
            vec![("job-id", id("action-finishes")), ("queue", "etl")],
            "queue applies only",
        ),
        (
            vec![("job-id", id("action-finishes")), ("spark-file", "b.json")],
            "not both",
        ),
        (
            vec![("spark-file", "b.json"), ("sql", "SELECT 1")],
            "not both",
        ),
        (
            vec![("spark-file", "b.json"), ("queue", "etl")],
            "queue applies only",
        ),
        (
            vec![("spark-file", "b.json"), ("job-type", "sql")],
            "does not go with spark-file",
        ),
        (
            vec![("sql", "SELECT 1"), ("job-type", "spark")],
            "does not go with sql",
        ),
        (
            vec![("job-id", id("action-finishes")), ("database", "sales")],
            "database applies only",
        ),
        (
            vec![("spark-file", "b.json"), ("database", "sales")],
            "database applies only",
        ),
        (
            vec![("job-id", id("action-finishes")), ("no-wait", "true")],
            "no-wait applies only",
        ),
        (
            vec![("sql", "SELECT 1"), ("no-wait", "yes")],
            "no-wait is true, false or empty",
        ),
        (
            vec![("job-id", id("action-finishes")), ("fail-fast", "1")],
            "fail-fast is true, false or empty",
        ),
    ] {
        let mut with: Vec<(&str, &str)> = vec![("version", VERSION)];
        with.extend(inputs);
        let run = runner.run(&with, None);
        assert_eq!(run.code(), Some(2), "{}", run.all());
        assert_eq!(run.outputs["status"], "ERROR", "{}", run.all());
        assert_eq!(run.outputs["exit-code"], "2", "{}", run.all());
        assert!(run.outputs["message"].contains(words), "{}", run.all());
        assert!(
            run.step("wait").stdout.contains("::error title=dli-wait::"),
            "{}",
            run.all()
        );
    }
}

/// An input holding newlines and workflow commands (here `job-type`, which the usage errors
/// quote) adds no command to the log and sets no output: the step still exits 2 with status
/// ERROR, and stdout has one command, the step's own annotation.
#[test]
fn an_input_with_newlines_injects_no_command_and_no_output() {
    const EVIL: &str = "\n::error::x\nstatus=FINISHED\nexit-code=0\r\n::set-output name=status::FINISHED\n%0A::warning::y";
    let sim = Sim::start("action.json");
    let mut runner = Runner::new(shared_release()).with_sim(&sim);
    for inputs in [
        vec![("sql", "SELECT 1"), ("job-type", EVIL)],
        vec![("spark-file", "b.json"), ("job-type", EVIL)],
        vec![("job-id", id("action-finishes")), ("job-type", EVIL)],
    ] {
        let mut with: Vec<(&str, &str)> = vec![("version", VERSION)];
        with.extend(inputs);
        let run = runner.run(&with, None);
        let wait = run.step("wait");
        assert_eq!(run.code(), Some(2), "{}", run.all());
        assert_eq!(run.outputs["status"], "ERROR", "{}", run.all());
        assert_eq!(run.outputs["exit-code"], "2", "{}", run.all());
        let commands: Vec<&str> = wait
            .stdout
            .lines()
            .chain(wait.stderr.lines())
            .filter(|l| l.trim_start().starts_with("::"))
            .collect();
        assert!(
            commands.len() <= 1
                && commands
                    .iter()
                    .all(|c| c.starts_with("::error title=dli-wait")),
            "injected commands: {commands:?}\n{}",
            run.all()
        );
        // The outputs file as the runner reads it: one value per name, nothing else set.
        let raw = std::fs::read_to_string(
            runner
                .dir
                .path()
                .join("files")
                .join(format!("output-{}", runner.ran)),
        )
        .unwrap();
        for line in raw.lines() {
            assert!(
                !["status=FINISHED", "exit-code=0"].contains(&line.trim()),
                "{raw}"
            );
        }
        let names: Vec<&String> = wait.outputs.keys().collect();
        assert!(
            names.iter().all(|n| [
                "status",
                "exit-code",
                "message",
                "job-id",
                "duration-seconds",
                "polls"
            ]
            .contains(&n.as_str())),
            "{names:?}\n{raw}"
        );
    }
}

/// The same for generated inputs: any text of newlines, carriage returns, `%`, `::`, `=` and
/// `<<` in `job-type` leaves exactly the step's own annotation and its three outputs.
#[test]
fn any_input_text_leaves_only_the_steps_own_command_and_outputs() {
    use rand::{Rng, SeedableRng};
    const PIECES: &[&str] = &[
        "\n",
        "\r",
        "\r\n",
        "%",
        "%0A",
        "%25",
        "::",
        "::error::",
        "::add-mask::",
        "=",
        "<<",
        "status",
        "exit-code=0",
        "EOF",
        "DLI_WAIT_EOF_",
        " ",
        "a",
        "\u{2028}",
    ];
    let mut rng = rand::rngs::SmallRng::seed_from_u64(4);
    let mut runner = Runner::new(shared_release());
    for _ in 0..12 {
        let n = rng.gen_range(1..12);
        let evil: String = (0..n)
            .map(|_| PIECES[rng.gen_range(0..PIECES.len())])
            .collect();
        let run = runner.run(
            &[
                ("version", VERSION),
                ("sql", "SELECT 1"),
                ("job-type", &evil),
            ],
            None,
        );
        let wait = run.step("wait");
        assert_eq!(run.code(), Some(2), "{evil:?}\n{}", run.all());
        let commands = wait
            .stdout
            .lines()
            .filter(|l| l.trim_start().starts_with("::"))
            .count();
        assert_eq!(commands, 1, "{evil:?}\n{}", run.all());
        let names: Vec<&str> = wait.outputs.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["exit-code", "message", "status"],
            "{evil:?}\n{}",
            run.all()
        );
        assert_eq!(wait.outputs["status"], "ERROR", "{evil:?}");
        assert_eq!(wait.outputs["exit-code"], "2", "{evil:?}");
    }
}

// --- keyless: OIDC federation with the job's ID token ----------------------------------------

/// The ID token tests/scenarios/keyless.json's IAM accepts (for identity provider github-dli).
const KEYLESS_ID_TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImdoIn0.eyJhdWQiOiJkbGktd2FpdCIsInN1YiI6InJlcG86b3duZXIvcmVwbzpyZWY6cmVmcy9oZWFkcy9tYWluIn0.S0VZTEVTU1NJR05BVFVSRQ";
/// The runner's bearer token for the ID-token service (ACTIONS_ID_TOKEN_REQUEST_TOKEN).
const REQUEST_TOKEN: &str = "RUNNERREQUESTTOKEN4711";
/// The audience the workflow asks for: a URL, so that its encoding is tested too.
const AUDIENCE: &str = "https://iam.example/dli wait";

/// GitHub's ID-token service, as a runner offers it on ACTIONS_ID_TOKEN_REQUEST_URL: a GET
/// with `Authorization: bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>` and `&audience=…` answers
/// `{"count": …, "value": "<JWT>"}`; anything else 401. Serves on loopback until dropped.
struct IdTokenService {
    url: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl IdTokenService {
    fn start() -> IdTokenService {
        IdTokenService::start_for(AUDIENCE)
    }

    /// The service, answering only requests for `expected` as the audience.
    fn start_for(expected: &str) -> IdTokenService {
        let expected = expected.to_string();
        use std::io::Write;
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!(
            "http://{}/_apis/distributedtask/idtoken?api-version=2.0",
            listener.local_addr().unwrap()
        );
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen, stopping) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let mut conn = match listener.accept() {
                    Ok((c, _)) => c,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                };
                conn.set_nonblocking(false).unwrap();
                conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match conn.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let line = head.lines().next().unwrap_or_default().to_string();
                let bearer = head.lines().any(|l| {
                    l.split_once(':').is_some_and(|(k, v)| {
                        k.eq_ignore_ascii_case("authorization")
                            && v.trim() == format!("bearer {REQUEST_TOKEN}")
                    })
                });
                // The audience added to the runner's URL (which has a query already), encoded.
                let target = line.split(' ').nth(1).unwrap_or_default();
                let (path, query) = target.split_once('?').unwrap_or((target, ""));
                let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect();
                let audience = params
                    == [
                        ("api-version".to_string(), "2.0".to_string()),
                        ("audience".to_string(), expected.to_string()),
                    ];
                let on_path = line.starts_with("GET ") && path == "/_apis/distributedtask/idtoken";
                seen.lock().unwrap().push(line);
                let (status, body) = if bearer && audience && on_path {
                    (
                        "200 OK",
                        format!("{{\"count\":1,\"value\":\"{KEYLESS_ID_TOKEN}\"}}"),
                    )
                } else {
                    (
                        "401 Unauthorized",
                        "{\"message\":\"bad request\"}".to_string(),
                    )
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        IdTokenService {
            url,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for IdTokenService {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The keyless job of the tests below: no key in the job's env, the simulator as DLI and IAM,
/// `service` as the runner's ID-token service, `identity-provider` github-dli and the
/// test's audience.
fn run_keyless(release: &Path, sim: &Sim, service: &IdTokenService) -> (Runner, ActionRun) {
    let mut runner = Runner::new(release);
    runner.env.extend([
        ("DLI_ENDPOINT".into(), sim.endpoint.clone()),
        ("HUAWEICLOUD_SDK_PROJECT_ID".into(), sim.project_id.clone()),
        ("HUAWEICLOUD_SDK_IAM_ENDPOINT".into(), sim.endpoint.clone()),
        ("ACTIONS_ID_TOKEN_REQUEST_URL".into(), service.url.clone()),
        (
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
            REQUEST_TOKEN.into(),
        ),
    ]);
    let run = runner.run(
        &with(&[
            ("job-id", id("keyless-finishes")),
            ("version", VERSION),
            ("identity-provider", "github-dli"),
            ("audience", AUDIENCE),
        ]),
        None,
    );
    (runner, run)
}

/// A keyless job: no key in the job's env, `identity-provider` and `audience` given, the
/// runner's ID-token service on hand. The action fetches the ID token (bearer token and
/// audience checked), keeps it in a 0600 file under RUNNER_TEMP, masks it, and dli-wait
/// exchanges it at the simulator's IAM: the job FINISHES, and the token shows nowhere but in
/// the mask command.
#[test]
fn keyless_with_the_runners_id_token_waits_with_temporary_keys() {
    let release = shared_release();
    let sim = Sim::start("keyless.json");
    let service = IdTokenService::start();
    let (runner, run) = run_keyless(release, &sim, &service);
    assert_eq!(run.code(), Some(0), "{}", run.all());
    assert_eq!(run.outputs["status"], "FINISHED", "{}", run.all());
    assert_eq!(service.requests().len(), 1, "{:?}", service.requests());

    // The simulator's IAM got the ID token; DLI saw only the temporary keys.
    let log = sim.requests();
    assert!(
        log.iter()
            .any(|r| r.path == "/v3.0/OS-AUTH/id-token/tokens" && r.status == 201),
        "{log:?}"
    );
    let dli: Vec<_> = log.iter().filter(|r| r.path.starts_with("/v1")).collect();
    assert!(
        !dli.is_empty()
            && dli
                .iter()
                .all(|r| r.status == 200 && r.temporary_key.is_some()),
        "{log:?}"
    );

    // The token file: under RUNNER_TEMP, this user's only.
    let files: Vec<PathBuf> = files_under(&runner.dir.path().join("temp"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("dli-wait-id-token."))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{:o}", mode);
    assert_eq!(
        std::fs::read_to_string(&files[0]).unwrap().trim(),
        KEYLESS_ID_TOKEN
    );

    // Masked, and shown nowhere else: not in the logs, the outputs or the summary.
    let wait = run.step("wait");
    assert!(
        wait.stdout
            .lines()
            .any(|l| l == format!("::add-mask::{KEYLESS_ID_TOKEN}")),
        "{}",
        run.all()
    );
    let issued = sim.issued_credentials();
    let mut secrets = vec![KEYLESS_ID_TOKEN.to_string(), REQUEST_TOKEN.to_string()];
    for k in issued["issued"].as_array().unwrap() {
        for f in ["ak", "sk", "security_token"] {
            secrets.push(k[f].as_str().unwrap().to_string());
        }
    }
    for t in issued["tokens"].as_array().unwrap() {
        secrets.push(t.as_str().unwrap().to_string());
    }
    let mask_lines = |text: &str| {
        text.lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for step in &run.steps {
        let shown = format!(
            "{}\n{}\n{:?}\n{}",
            mask_lines(&step.stdout),
            mask_lines(&step.stderr),
            step.outputs,
            step.summary
        );
        for s in &secrets {
            assert!(
                !shown.contains(s.as_str()),
                "a secret shows in step {}\n{}",
                step.label,
                run.all()
            );
        }
    }
}

/// Without `permissions: id-token: write` the runner offers no ID-token service: exit 2 with
/// the outputs, saying what to add. An audience without an identity provider is a mistake too.
#[test]
fn keyless_without_the_id_token_permission_says_what_to_add() {
    let mut runner = Runner::new(shared_release());
    for (inputs, words) in [
        (
            vec![("identity-provider", "github-dli")],
            "permissions: id-token: write",
        ),
        (
            vec![("audience", "dli-wait")],
            "audience applies only with identity-provider",
        ),
        (
            vec![("ecs-metadata", "yes")],
            "ecs-metadata is true, false or empty",
        ),
    ] {
        let mut with: Vec<(&str, &str)> =
            vec![("version", VERSION), ("job-id", id("action-finishes"))];
        with.extend(inputs);
        let run = runner.run(&with, None);
        assert_eq!(run.code(), Some(2), "{}", run.all());
        assert_eq!(run.outputs["status"], "ERROR", "{}", run.all());
        assert!(run.outputs["message"].contains(words), "{}", run.all());
    }
}

/// GitHub rotated its signing keys and the identity provider in IAM still has the old ones:
/// IAM refuses the job's ID token. The step fails with exit 5 (refused), and what the user
/// reads names what to do in the action's words: the provider's signing key, GitHub's JWKS.
#[test]
fn keyless_after_github_rotated_its_keys_says_to_update_the_signing_key() {
    let release = shared_release();
    // The scenario's IAM, expecting another token: as IAM sees a token signed with a key it
    // does not have.
    let dir = TempDir::new("rotated");
    let mut scenario: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::scenario_path("keyless.json")).unwrap(),
    )
    .unwrap();
    scenario["credentials"]["id_token"] =
        "eyJhbGciOiJSUzI1NiIsImtpZCI6Im5ldyJ9.e30.TkVXS0VZ".into();
    let path = dir.path().join("rotated.json");
    std::fs::write(&path, scenario.to_string()).unwrap();
    let sim = Sim::start_file(path.to_str().unwrap());
    let service = IdTokenService::start();
    let (_, run) = run_keyless(release, &sim, &service);
    assert_eq!(run.code(), Some(5), "{}", run.all());
    assert_eq!(run.outputs["status"], "REFUSED", "{}", run.all());
    let said = format!("{}\n{}", run.step("wait").stderr, run.outputs["message"]);
    for words in [
        "identity-provider input",
        "signing key",
        "https://token.actions.githubusercontent.com/.well-known/jwks",
    ] {
        assert!(said.contains(words), "{words:?} not said:\n{}", run.all());
    }
    // Nothing reached DLI.
    assert!(
        sim.requests().iter().all(|r| !r.path.starts_with("/v1")),
        "{:?}",
        sim.requests()
    );
}

/// README's keyless snippet works when pasted: its `with:` names real inputs and, with its
/// expressions given values (the job, the project from `vars`), the step waits with keys from
/// federation and passes.
#[test]
fn readmes_keyless_snippet_works_when_pasted() {
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap();
    let section = &readme[readme
        .find("### Keyless: OIDC federation")
        .expect("the section")..];
    let start = section.find("```yaml\n").expect("a yaml block") + 8;
    let len = section[start..].find("```").unwrap();
    let snippet: serde_yaml_ng::Value = serde_yaml_ng::from_str(&section[start..start + len])
        .unwrap_or_else(|e| panic!("README's keyless snippet is not YAML: {e}"));
    assert_eq!(snippet["permissions"]["id-token"], "write", "{snippet:?}");
    let step = &snippet["steps"][0];
    assert!(
        step["uses"]
            .as_str()
            .is_some_and(|u| u.contains("/dli-wait@")),
        "{step:?}"
    );
    let sim = Sim::start("keyless.json");
    let inputs: Vec<(String, String)> = step["with"]
        .as_mapping()
        .expect("with:")
        .iter()
        .map(|(k, v)| {
            let value = v.as_str().unwrap().trim().to_string();
            let value = match value.as_str() {
                "${{ inputs.job }}" => id("keyless-finishes").to_string(),
                "${{ vars.HUAWEICLOUD_PROJECT_ID }}" => sim.project_id.clone(),
                other => {
                    assert!(
                        !other.contains("${{"),
                        "an expression the test does not know: {other}"
                    );
                    other.to_string()
                }
            };
            (k.as_str().unwrap().to_string(), value)
        })
        .collect();
    assert!(
        inputs.iter().any(|(k, _)| k == "project-id"),
        "the snippet names no project-id: {inputs:?}"
    );
    let audience = inputs
        .iter()
        .find(|(k, _)| k == "audience")
        .map(|(_, v)| v.clone())
        .expect("an audience");
    let service = IdTokenService::start_for(&audience);
    let mut runner = Runner::new(shared_release());
    runner.env.extend([
        // The simulator stands in for the region's DLI and IAM.
        ("DLI_ENDPOINT".into(), sim.endpoint.clone()),
        ("HUAWEICLOUD_SDK_IAM_ENDPOINT".into(), sim.endpoint.clone()),
        ("ACTIONS_ID_TOKEN_REQUEST_URL".into(), service.url.clone()),
        (
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
            REQUEST_TOKEN.into(),
        ),
    ]);
    let mut with: Vec<(&str, &str)> = inputs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    with.extend(FAST.iter().copied());
    with.push(("version", VERSION));
    let run = runner.run(&with, None);
    assert_eq!(run.code(), Some(0), "{}", run.all());
    assert_eq!(run.outputs["status"], "FINISHED", "{}", run.all());
}

/// `idempotency-key` and `conf` go with the submit: a re-run with the key submits nothing
/// more (the job FINISHED), and each line of `conf` is one setting of the job.
#[test]
fn the_key_and_conf_inputs_go_with_the_submit() {
    let release = shared_release(); // first: the jobs' clocks start with the simulator
    let sim = Sim::start("action.json");
    let mut runner = Runner::new(release).with_sim(&sim);
    let inputs = with(&[
        ("sql", "INSERT INTO sales.daily SELECT * FROM sales.orders"),
        ("idempotency-key", "4242-nightly"),
        (
            "conf",
            "spark.sql.shuffle.partitions=10\r\n\n  \nspark.sql.files.maxRecordsPerFile=5\n",
        ),
        ("version", VERSION),
    ]);
    let submits = |sim: &Sim| {
        sim.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/jobs/submit-job"))
            .count()
    };
    let first = runner.run(&inputs, None);
    assert_eq!(first.code(), Some(0), "{}", first.all());
    let again = runner.run(&inputs, None);
    assert_eq!(again.code(), Some(0), "{}", again.all());
    assert_eq!(
        again.outputs["job-id"],
        first.outputs["job-id"],
        "{}",
        again.all()
    );
    assert!(again.all().contains("already FINISHED"), "{}", again.all());
    assert_eq!(submits(&sim), 1, "{:?}", sim.requests());
    let job = crate::keys::status(&sim, &first.outputs["job-id"]);
    assert_eq!(
        job.user_conf.as_deref(),
        Some("spark.sql.shuffle.partitions=10,spark.sql.files.maxRecordsPerFile=5"),
        "{job:?}"
    );
    for (inputs, words) in [
        (
            vec![("job-id", id("action-finishes")), ("idempotency-key", "k")],
            "apply only when submitting",
        ),
        (
            vec![("spark-file", "b.json"), ("conf", "a=b")],
            "conf applies only",
        ),
    ] {
        let mut with: Vec<(&str, &str)> = vec![("version", VERSION)];
        with.extend(inputs);
        let run = runner.run(&with, None);
        assert_eq!(run.code(), Some(2), "{}", run.all());
        assert!(run.outputs["message"].contains(words), "{}", run.all());
    }
}

/// A re-run with `no-wait` and `idempotency-key` whose key's job is still running re-attaches
/// to it and passes as a `no-wait` submit does: status SUBMITTED and that job's id in the
/// outputs (not ERROR with an empty id), nothing submitted.
#[test]
fn a_no_wait_rerun_with_the_key_outputs_the_running_jobs_id() {
    let release = shared_release(); // first: the jobs' clocks start with the simulator
    let sim = Sim::start("keys.json");
    let mut runner = Runner::new(release).with_sim(&sim);
    let inputs = with(&[
        ("sql", "INSERT INTO sales.daily SELECT * FROM sales.raw"),
        ("idempotency-key", "running-for-an-hour"),
        ("no-wait", "true"),
        ("version", VERSION),
    ]);
    let again = runner.run(&inputs, None);
    assert_eq!(again.code(), Some(0), "{}", again.all());
    assert!(
        again.all().contains("re-attaching to job"),
        "{}",
        again.all()
    );
    assert_eq!(again.outputs["status"], "SUBMITTED", "{}", again.all());
    assert_eq!(
        again.outputs["job-id"],
        id("key-running-long"),
        "{}",
        again.all()
    );
    let submits = sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/jobs/submit-job"))
        .count();
    assert_eq!(submits, 0, "{:?}", sim.requests());
}
