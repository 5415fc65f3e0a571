//! Attribute dli-wait's memory per job: the heap one job holds while waiting, and the heap the
//! final summary takes. Sets jobs up as `wait::many::wait_all` does (one driver loop for all),
//! with a pacer so slow that every wait stands in line for a turn (no request is sent), and
//! counts live heap bytes with a counting global allocator.
//!
//!   sizeprobe [N] [ENDPOINT] [LAST_PROGRESS_JSON] >/dev/null   (stdout gets the JSON events)
//!
//! LAST_PROGRESS_JSON is the /progress body each synthetic report carries as its last snapshot
//! (default: a FINISHED job with no sub-jobs, what a finished job's last poll shows).
use dli_wait::cli::{TargetArgs, TimingArgs, resolve};
use dli_wait::dli::client::DliClient;
use dli_wait::report::Reporter;
use dli_wait::report::json::{Json, write_summary};
use dli_wait::report::safe::{Scrubber, Secrets};
use dli_wait::wait::driver::{Driver, Wait};
use dli_wait::wait::record::JobReport;
use dli_wait::wait::outcome::Outcome;
use dli_wait::wait::snapshot::Snapshot;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};
use std::time::Duration;

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let n = LIVE.fetch_add(l.size() as isize, Relaxed) + l.size() as isize;
        PEAK.fetch_max(n, Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        let d = n as isize - l.size() as isize;
        let now = LIVE.fetch_add(d, Relaxed) + d;
        PEAK.fetch_max(now, Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}
#[global_allocator]
static A: Counting = Counting;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let endpoint = std::env::args().nth(2).unwrap_or_else(|| "http://127.0.0.1:9".into());
    let progress_body = std::env::args().nth(3).or_else(|| Some(
        r#"{"is_success":true,"job_id":"b0000000-0000-4000-8000-000000000000","message":"","status":"FINISHED","sub_jobs":[]}"#.into()));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let env = |k: &str| match k {
            "HUAWEICLOUD_SDK_AK" => Some("SIMULATORAK0000000001".to_string()),
            "HUAWEICLOUD_SDK_SK" => Some("simulator-secret-key-not-for-production".to_string()),
            _ => None,
        };
        let target = TargetArgs {
            endpoint: Some(endpoint),
            project_id: Some("0123456789abcdef0123456789abcdef".into()),
            ..TargetArgs::default()
        };
        let settings = resolve(&target, &TimingArgs::default(), env).unwrap();
        let base = LIVE.load(Relaxed);
        // Slow enough that every wait sits in the pacer: no request is sent.
        let client = DliClient::new(settings.client.clone()).unwrap().with_rate_limit(0.001);
        let reporter: Arc<dyn Reporter> = Arc::new(Json::new(Secrets::default()));
        let (_tx, stop) = tokio::sync::watch::channel(None);
        let after_client = LIVE.load(Relaxed);
        let waits: Vec<Wait> = (0..n)
            .map(|i| Wait {
                job_id: format!("b0000000-0000-4000-8000-{i:012}"),
                cfg: settings.wait.clone(),
                policy: settings.policy(),
            })
            .collect();
        let driver = Driver { api: client.clone(), events: reporter.clone() };
        let set_up = LIVE.load(Relaxed);
        let fleet = tokio::spawn(async move {
            let _ = driver.wait_many(waits, stop, |_| {}).await;
        });
        // Let every wait start and stand in line for a turn.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let waiting = LIVE.load(Relaxed);
        eprintln!("jobs {n}: heap: client {} B; the waits as given {:.0} B/job; while waiting (in line for a turn) {:.0} B/job; total {:.1} MiB",
            after_client - base, (set_up - after_client) as f64 / n as f64,
            (waiting - after_client) as f64 / n as f64, (waiting - base) as f64 / 1048576.0);
        fleet.abort();
        let _ = fleet.await;
        // The summary: n finished reports carrying the last snapshot, as at the end of a run.
        let last: Option<Snapshot> = progress_body.map(|b| {
            let p: dli_wait::dli::model::JobProgress = serde_json::from_str(&b).unwrap();
            Snapshot::from(p)
        });
        let reports: Vec<JobReport> = (0..n).map(|i| JobReport {
            job_id: format!("b0000000-0000-4000-8000-{i:012}"), outcome: Outcome::Finished,
            elapsed: Duration::from_secs(70), polls: 3, retries: 0, last: last.clone(),
            last_fault: None, reason: None, cancel: None, fell_back: false, short_lived_credentials: false,
        }).collect();
        let before_summary = LIVE.load(Relaxed);
        PEAK.store(before_summary, Relaxed);
        // The summary is streamed one job at a time (report::json::write_summary): measure
        // the peak heap it takes on top of the reports, writing into a counting sink.
        let mut sink = std::io::sink();
        write_summary(&mut sink, &Scrubber::default(), &reports, 0, None).unwrap();
        let peak = PEAK.load(Relaxed) - before_summary;
        let mut line = Vec::new();
        write_summary(&mut line, &Scrubber::default(), &reports, 0, None).unwrap();
        eprintln!("summary: streamed; peak extra heap while writing it {:.1} KiB for {n} jobs; line {:.0} B/job",
            peak as f64 / 1024.0, line.len() as f64 / n as f64);
    });
}
