//! User stories about credentials "the way Huawei Cloud users hold them": keys in the
//! environment, the SDKs' credentials file, OIDC federation from an ID token file (the keyless
//! CI path), the ECS agency's keys from the metadata service; in the SDKs' order; temporary
//! keys renewed before they expire and after a 401 a renewal cures, one renewal for all jobs.
//!
//! Everything runs against `dli-wait simulate`, whose own IAM and metadata service answer on
//! its listener (tests/scenarios/credentials*.json). No test sends anything to 169.254.169.254:
//! the metadata service is the simulator's, and the DMI directory points nowhere unless a test
//! makes one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Logged, Ran, Sim, TempDir, id, run};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const IDP: &str = "github-actions";
const ID_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm93bmVyL2RsaSJ9.c2lnbmF0dXJl";
const ID_TOKEN_PATH: &str = "/v3.0/OS-AUTH/id-token/tokens";
const SECURITY_TOKENS_PATH: &str = "/v3.0/OS-CREDENTIAL/securitytokens";
const METADATA_TOKEN_PATH: &str = "/meta-data/latest/api/token";
const SECURITY_KEY_PATH: &str = "/openstack/latest/securitykey";

/// An ID token file in `dir`.
fn id_token_file(dir: &TempDir) -> PathBuf {
    let p = dir.path().join("id-token");
    std::fs::write(&p, format!("{ID_TOKEN}\n")).unwrap();
    p
}

/// A credentials file in `dir` with these lines under `[basic]`.
fn credentials_file(dir: &Path, lines: &[String]) -> PathBuf {
    let p = dir.join("credentials");
    std::fs::write(&p, format!("[basic]\n{}\n", lines.join("\n"))).unwrap();
    p
}

/// `dli-wait -v` against `sim` with OIDC federation from the environment, for `job`.
fn federated(sim: &Sim, dir: &TempDir, job: &str) -> Ran {
    run(sim
        .dli_wait_without_credentials()
        .env("HUAWEICLOUD_SDK_IDP_ID", IDP)
        .env("HUAWEICLOUD_SDK_ID_TOKEN_FILE", id_token_file(dir))
        .env("HUAWEICLOUD_SDK_IAM_ENDPOINT", &sim.endpoint)
        .args(["-v", job]))
}

fn calls(log: &[Logged], path: &str) -> usize {
    log.iter().filter(|r| r.path == path).count()
}

/// The requests to DLI (its paths start with /v1).
fn dli_requests(log: &[Logged]) -> Vec<&Logged> {
    log.iter().filter(|r| r.path.starts_with("/v1")).collect()
}

#[test]
fn keys_in_the_environment_work_alone_and_v_names_them() {
    let sim = Sim::start("credentials.json");
    let r = run(sim.dli_wait().args(["-v", id("creds-quick")]));
    r.expect_code(0).stderr_has(&[
        "credentials: from the environment (HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK)",
        "FINISHED",
    ]);
    let log = sim.requests();
    assert!(log.iter().all(|q| q.temporary_key.is_none()), "{log:?}");
}

#[test]
fn the_credentials_file_works_alone_and_gives_the_project() {
    let sim = Sim::start("credentials.json");
    let dir = TempDir::new("creds-file");
    let file = credentials_file(
        dir.path(),
        &[
            "# the SDKs' file".into(),
            format!("ak = {}", sim.ak),
            format!("sk = {}", sim.sk),
            format!("project_id = {}", sim.project_id),
        ],
    );
    let r = run(sim
        .dli_wait_without_credentials()
        .env_remove("HUAWEICLOUD_SDK_PROJECT_ID")
        .env("HUAWEICLOUD_SDK_CREDENTIALS_FILE", &file)
        .args(["-v", id("creds-quick")]));
    r.expect_code(0)
        .stderr_has(&["credentials: from the credentials file", "(ak/sk)"]);
    // Where the SDKs look by default: ~/.huaweicloud/credentials.
    let home = TempDir::new("creds-home");
    std::fs::create_dir_all(home.path().join(".huaweicloud")).unwrap();
    credentials_file(
        &home.path().join(".huaweicloud"),
        &[format!("ak = {}", sim.ak), format!("sk = {}", sim.sk)],
    );
    let r = run(sim
        .dli_wait_without_credentials()
        .env("HOME", home.path())
        .args(["-v", id("creds-quick")]));
    r.expect_code(0)
        .stderr_has(&[".huaweicloud/credentials (ak/sk)"]);
}

#[test]
fn oidc_federation_from_the_environment_works_alone() {
    let sim = Sim::start("credentials.json");
    let dir = TempDir::new("creds-oidc");
    let r = federated(&sim, &dir, id("creds-quick"));
    r.expect_code(0).stderr_has(&[
        "credentials: from OIDC federation (identity provider \"github-actions\"",
        "credentials: temporary keys from OIDC federation (valid for",
        "FINISHED",
    ]);
    let log = sim.requests();
    assert_eq!(calls(&log, ID_TOKEN_PATH), 1, "{log:?}");
    assert_eq!(calls(&log, SECURITY_TOKENS_PATH), 1, "{log:?}");
    // Every DLI request signed with the issued keys, their security token along.
    let dli = dli_requests(&log);
    assert!(!dli.is_empty());
    assert!(
        dli.iter()
            .all(|q| q.status == 200 && q.security_token && q.temporary_key == Some(1)),
        "{dli:?}"
    );
}

#[test]
fn oidc_federation_from_the_credentials_file_works_alone() {
    let sim = Sim::start("credentials.json");
    let dir = TempDir::new("creds-oidc-file");
    let file = credentials_file(
        dir.path(),
        &[
            format!("idp_id = {IDP}"),
            format!("id_token_file = {}", id_token_file(&dir).display()),
            format!("iam_endpoint = {}", sim.endpoint),
            format!("project_id = {}", sim.project_id),
        ],
    );
    let r = run(sim
        .dli_wait_without_credentials()
        .env_remove("HUAWEICLOUD_SDK_PROJECT_ID")
        .env("HUAWEICLOUD_SDK_CREDENTIALS_FILE", &file)
        .args(["-v", id("creds-quick")]));
    r.expect_code(0)
        .stderr_has(&["from the credentials file", "OIDC federation"]);
    assert_eq!(calls(&sim.requests(), SECURITY_TOKENS_PATH), 1);
}

#[test]
fn the_ecs_metadata_service_works_alone_when_enabled() {
    let sim = Sim::start("credentials.json");
    let r = run(sim
        .dli_wait_without_credentials()
        .env("DLI_WAIT_ECS_METADATA", "1")
        .env("DLI_WAIT_METADATA_ENDPOINT", &sim.endpoint)
        .args(["-v", id("creds-quick")]));
    r.expect_code(0).stderr_has(&[
        "credentials: from the ECS metadata service",
        "DLI_WAIT_ECS_METADATA=1",
        "FINISHED",
    ]);
    let log = sim.requests();
    assert_eq!(calls(&log, METADATA_TOKEN_PATH), 1, "{log:?}");
    assert_eq!(calls(&log, SECURITY_KEY_PATH), 1, "{log:?}");
    assert!(
        dli_requests(&log)
            .iter()
            .all(|q| q.status == 200 && q.temporary_key == Some(1)),
        "{log:?}"
    );
}

#[test]
fn on_a_huawei_cloud_ecs_the_metadata_service_is_asked_by_itself() {
    let sim = Sim::start("credentials.json");
    let dmi = TempDir::new("creds-dmi");
    std::fs::write(dmi.path().join("chassis_asset_tag"), "HUAWEICLOUD\n").unwrap();
    let r = run(sim
        .dli_wait_without_credentials()
        .env("DLI_WAIT_DMI_DIR", dmi.path())
        .env("DLI_WAIT_METADATA_ENDPOINT", &sim.endpoint)
        .args(["-v", id("creds-quick")]));
    r.expect_code(0)
        .stderr_has(&["this machine is a Huawei Cloud ECS", "FINISHED"]);
    assert_eq!(calls(&sim.requests(), SECURITY_KEY_PATH), 1);
    // Switched off, it is not asked even there.
    let before = sim.requests().len();
    let r = run(sim
        .dli_wait_without_credentials()
        .env("DLI_WAIT_DMI_DIR", dmi.path())
        .env("DLI_WAIT_ECS_METADATA", "0")
        .env("DLI_WAIT_METADATA_ENDPOINT", &sim.endpoint)
        .arg(id("creds-quick")));
    r.expect_code(2)
        .stderr_has(&["ECS metadata: not asked (DLI_WAIT_ECS_METADATA=0)"]);
    assert_eq!(sim.requests().len(), before);
}

#[test]
fn the_environment_comes_before_the_credentials_file() {
    let sim = Sim::start("credentials.json");
    let dir = TempDir::new("creds-env-over-file");
    // The file's keys are wrong: were they used, the wait would end 401.
    let file = credentials_file(
        dir.path(),
        &["ak = FILEAKWRONG".into(), "sk = FILESKWRONG".into()],
    );
    let r = run(sim
        .dli_wait()
        .env("HUAWEICLOUD_SDK_CREDENTIALS_FILE", &file)
        .args(["-v", id("creds-quick")]));
    r.expect_code(0)
        .stderr_has(&["credentials: from the environment"]);
}

#[test]
fn the_credentials_file_comes_before_the_metadata_service() {
    let sim = Sim::start("credentials.json");
    let dir = TempDir::new("creds-file-over-metadata");
    let file = credentials_file(
        dir.path(),
        &[format!("ak = {}", sim.ak), format!("sk = {}", sim.sk)],
    );
    let r = run(sim
        .dli_wait_without_credentials()
        .env("HUAWEICLOUD_SDK_CREDENTIALS_FILE", &file)
        .env("DLI_WAIT_ECS_METADATA", "1")
        .env("DLI_WAIT_METADATA_ENDPOINT", &sim.endpoint)
        .args(["-v", id("creds-quick")]));
    r.expect_code(0)
        .stderr_has(&["credentials: from the credentials file"]);
    let log = sim.requests();
    assert_eq!(calls(&log, METADATA_TOKEN_PATH), 0, "{log:?}");
    assert_eq!(calls(&log, SECURITY_KEY_PATH), 0, "{log:?}");
}

/// Not enabled and not an ECS (a Huawei *server* is not one): the metadata service is never
/// asked, and the error names every source and what it lacked, on one line, exit 2.
#[test]
fn the_metadata_service_is_not_asked_when_not_enabled_and_not_on_an_ecs() {
    let sim = Sim::start("credentials.json");
    let dmi = TempDir::new("creds-not-ecs");
    std::fs::write(
        dmi.path().join("sys_vendor"),
        "Huawei Technologies Co., Ltd.\n",
    )
    .unwrap();
    let r = run(sim
        .dli_wait_without_credentials()
        .env("DLI_WAIT_DMI_DIR", dmi.path())
        .env("DLI_WAIT_METADATA_ENDPOINT", &sim.endpoint)
        .arg(id("creds-quick")));
    r.expect_code(2);
    let error: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(error.len(), 1, "{}", r.all());
    for w in [
        "no credentials",
        "environment: none of HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_AUTH_TOKEN, HUAWEICLOUD_SDK_IDP_ID/HUAWEICLOUD_SDK_ID_TOKEN_FILE",
        "credentials file",
        "not found",
        "ECS metadata: not asked",
        "DLI_WAIT_ECS_METADATA=1",
    ] {
        assert!(error[0].contains(w), "{w}: {}", r.all());
    }
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

#[test]
fn half_a_federation_is_an_error_naming_what_is_missing() {
    let sim = Sim::start("credentials.json");
    let r = run(sim
        .dli_wait()
        .env("HUAWEICLOUD_SDK_IDP_ID", IDP)
        .arg(id("creds-quick")));
    r.expect_code(2)
        .stderr_has(&["HUAWEICLOUD_SDK_IDP_ID is set but HUAWEICLOUD_SDK_ID_TOKEN_FILE is not"]);
    assert!(sim.requests().is_empty());
}

#[test]
fn an_identity_provider_iam_does_not_know_exits_5_naming_the_source() {
    let sim = Sim::start("credentials.json");
    let dir = TempDir::new("creds-wrong-idp");
    let r = run(sim
        .dli_wait_without_credentials()
        .env("HUAWEICLOUD_SDK_IDP_ID", "no-such-idp")
        .env("HUAWEICLOUD_SDK_ID_TOKEN_FILE", id_token_file(&dir))
        .env("HUAWEICLOUD_SDK_IAM_ENDPOINT", &sim.endpoint)
        .arg(id("creds-quick")));
    r.expect_code(5).stderr_has(&[
        "error: credentials: cannot get temporary keys from OIDC federation",
        "no-such-idp",
        "HTTP 404",
        "HUAWEICLOUD_SDK_IDP_ID",
    ]);
    assert!(dli_requests(&sim.requests()).is_empty());
}

/// Keys valid 30 s (job time), a job of 2 minutes: the keys are renewed ahead of their expiry,
/// the wait never sees a 401, and -v says so.
#[test]
fn a_wait_that_outlives_its_temporary_keys_renews_them_and_finishes() {
    let sim = Sim::start("credentials.json");
    let dir = TempDir::new("creds-refresh");
    let began = Instant::now();
    let r = federated(&sim, &dir, id("creds-two-minutes"));
    r.expect_code(0).stderr_has(&[
        "credentials: temporary keys from OIDC federation refreshed ahead of expiry",
        "FINISHED",
    ]);
    assert!(
        began.elapsed() < Duration::from_secs(25),
        "{:?}",
        began.elapsed()
    );
    let log = sim.requests();
    let dli = dli_requests(&log);
    assert!(dli.iter().all(|q| q.status == 200), "{dli:?}");
    let mut keys: Vec<u64> = dli.iter().filter_map(|q| q.temporary_key).collect();
    keys.dedup();
    assert!(keys.len() >= 3, "the keys were renewed: {keys:?}");
    assert_eq!(
        calls(&log, SECURITY_TOKENS_PATH),
        keys.len(),
        "one issue per set of keys used: {log:?}"
    );
}

/// Keys that say they last an hour but are refused after 40 s (job time): each 401 is cured
/// by one renewal and the request sent once more; the wait finishes.
#[test]
fn keys_refused_before_their_time_are_renewed_once_per_401_and_the_wait_finishes() {
    let sim = Sim::start("credentials-revoked.json");
    let dir = TempDir::new("creds-revoked");
    let r = federated(&sim, &dir, id("creds-revoked-two-minutes"));
    r.expect_code(0).stderr_has(&[
        "refreshed after the service refused them (HTTP 401)",
        "FINISHED",
    ]);
    let log = sim.requests();
    let dli = dli_requests(&log);
    let refused = dli.iter().filter(|q| q.status == 401).count();
    assert!(refused >= 1, "{dli:?}");
    // Each 401 is followed by the same request with the next keys, which passes.
    for (i, q) in dli.iter().enumerate().filter(|(_, q)| q.status == 401) {
        let next = dli
            .get(i + 1)
            .unwrap_or_else(|| panic!("nothing after {q:?}"));
        assert_eq!((next.status, &next.path), (200, &q.path), "{dli:?}");
        assert_eq!(
            next.temporary_key,
            q.temporary_key.map(|k| k + 1),
            "{dli:?}"
        );
    }
    assert_eq!(calls(&log, SECURITY_TOKENS_PATH), refused + 1, "{log:?}");
}

/// A 401 fresh keys do not cure: one renewal, one more try, then exit 5 at once with the
/// explanation.
#[test]
fn a_401_that_persists_after_a_renewal_exits_5_at_once() {
    let sim = Sim::start("credentials.json");
    let dir = TempDir::new("creds-persisting-401");
    let r = federated(&sim, &dir, id("creds-refused"));
    r.expect_code(5).stderr_has(&[
        "401",
        "refused again with fresh temporary keys from OIDC federation",
        "clock",
    ]);
    let log = sim.requests();
    assert_eq!(calls(&log, SECURITY_TOKENS_PATH), 2, "{log:?}");
    let dli = dli_requests(&log);
    assert_eq!(dli.iter().filter(|q| q.status == 401).count(), 2, "{dli:?}");
    assert_eq!(dli.last().map(|q| q.status), Some(401), "{dli:?}");
}

/// Six jobs whose keys expire several times over: one renewal at a time serves them all.
#[test]
fn many_jobs_share_each_renewal() {
    let sim = Sim::start("credentials-many.json");
    let r = run(sim
        .dli_wait_without_credentials()
        .env("DLI_WAIT_ECS_METADATA", "1")
        .env("DLI_WAIT_METADATA_ENDPOINT", &sim.endpoint)
        .arg("-v")
        .args(sim.jobs.iter().map(|j| j.id.as_str())));
    r.expect_code(0);
    let log = sim.requests();
    let issued = calls(&log, SECURITY_KEY_PATH);
    // About 10 s of waiting with keys of 3.75 s renewed at 3 s: some four issues, not one per
    // job and expiry.
    assert!((2..=6).contains(&issued), "{issued} issues: {log:?}");
    let renewals = r.stderr.matches("refreshed ahead of expiry").count();
    assert_eq!(renewals + 1, issued, "{}", r.all());
    assert!(dli_requests(&log).iter().all(|q| q.status == 200));
}

/// Asked to use a metadata service that is not there: exit 2 at once (no waiting for a
/// service that will never answer), naming it.
#[test]
fn a_metadata_service_that_is_not_there_ends_the_run_at_once() {
    let sim = Sim::start("credentials.json");
    // A port nobody listens on: bind one, then let it go.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let began = Instant::now();
    let r = run(sim
        .dli_wait_without_credentials()
        .env("DLI_WAIT_ECS_METADATA", "1")
        .env("DLI_WAIT_METADATA_ENDPOINT", format!("http://{closed}"))
        .arg(id("creds-quick")));
    r.expect_code(2).stderr_has(&[
        "error: credentials: cannot get temporary keys from the ECS metadata service",
        "DLI_WAIT_METADATA_ENDPOINT",
    ]);
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
    assert!(sim.requests().is_empty());
}

/// An ECS without an agency: the metadata service refuses keys; exit 5 saying so.
#[test]
fn an_ecs_without_an_agency_exits_5_saying_so() {
    let sim = Sim::start("credentials-no-agency.json");
    let r = run(sim
        .dli_wait_without_credentials()
        .env("DLI_WAIT_ECS_METADATA", "1")
        .env("DLI_WAIT_METADATA_ENDPOINT", &sim.endpoint)
        .arg(id("no-agency-job")));
    r.expect_code(5)
        .stderr_has(&["this ECS has no agency", "Cloud Service Agency"]);
    assert!(dli_requests(&sim.requests()).is_empty());
}

/// "A 401 that persists exits 5 at once, whatever the job count": 50 jobs under OIDC
/// federation, every DLI request refused (401). The keys are renewed once for all of them
/// (the first issue and one renewal: at most 2 exchanges at IAM, not one per job), and once
/// fresh keys are refused too every job ends REFUSED, exit 5, promptly.
#[test]
fn a_persistent_401_for_fifty_jobs_renews_once_and_ends_them_all_with_5() {
    let dir = TempDir::new("creds-401-fifty");
    let jobs: Vec<serde_json::Value> = (0..50)
        .map(|n| {
            serde_json::json!({
                "id": format!("refused-{n}"),
                "launching": "1s",
                "sub_jobs": [{"tasks": 1000, "duration": "1000h"}],
                "faults": [{"kind": "unauthorized", "requests": [1, 100000]}],
            })
        })
        .collect();
    let scenario = dir.path().join("fifty-refused.json");
    std::fs::write(
        &scenario,
        serde_json::json!({
            "speed": 8,
            "credentials": {"lifetime": "30s", "idp_id": IDP},
            "jobs": jobs,
        })
        .to_string(),
    )
    .unwrap();
    let sim = Sim::start_file(scenario.to_str().unwrap());
    let started = Instant::now();
    let r = run(sim
        .dli_wait_without_credentials()
        .env("HUAWEICLOUD_SDK_IDP_ID", IDP)
        .env("HUAWEICLOUD_SDK_ID_TOKEN_FILE", id_token_file(&dir))
        .env("HUAWEICLOUD_SDK_IAM_ENDPOINT", &sim.endpoint)
        .args(["--output", "json", "--max-requests-per-second", "5", "--"])
        .args(sim.jobs.iter().map(|j| j.id.as_str())));
    let took = started.elapsed();
    r.expect_code(5);
    let log = sim.requests();
    let exchanges = calls(&log, SECURITY_TOKENS_PATH);
    assert!(exchanges <= 2, "{exchanges} IAM exchanges: {log:?}");
    let summary = r.summary();
    let jobs = summary["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 50, "{summary}");
    assert!(jobs.iter().all(|j| j["status"] == "REFUSED"), "{summary}");
    // Not one poll a job under the rate limit (50 at 5/s: 10 s), but at once.
    let dli = dli_requests(&log);
    assert!(dli.len() <= 10, "{} requests to DLI: {dli:?}", dli.len());
    assert!(took < Duration::from_secs(8), "took {took:?}\n{}", r.all());
}
