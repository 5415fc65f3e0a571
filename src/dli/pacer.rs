//! The one request-rate limit of a process (`--max-requests-per-second`), shared by every
//! wait. Knows time only: nothing of HTTP or of what the requests are.

use std::time::Duration;

/// A global request rate limit: requests go out at least `interval` apart, first come first
/// served (tokio's mutex is fair), so thousands of waits never burst past the gateway's
/// throttling. A slot is taken only when it comes due: a wait that gives up (deadline,
/// signal) leaves the queue without holding up the ones behind it.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl Pacer {
    pub fn per_second(rate: f64) -> Self {
        Pacer {
            interval: Duration::try_from_secs_f64(1.0 / rate).unwrap_or(Duration::from_secs(3600)),
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    /// Wait for this request's turn.
    pub async fn wait(&self) {
        let mut next = self.next.lock().await;
        tokio::time::sleep_until(*next).await;
        // Keep the cadence when the timer wakes a little late; after a pause, start afresh
        // from now rather than catching up in a burst.
        *next = (*next + self.interval).max(tokio::time::Instant::now());
    }
}
