//! SIGINT, SIGTERM and SIGHUP: recorded on a stop channel that every wait listens to, so the
//! waits end (and cancel when asked) and the summary is written; then the process dies of the
//! signal ([`die_of`]), as a shell loop or CI expects. I/O at the edge only.

use crate::wait::outcome::{Signal, Stop};
use tokio::sync::watch;

/// Install the handlers now (so no early signal kills the process before the summary is
/// written) and return the channel the first signal is recorded on. A second Ctrl-C exits
/// at once. Must be called inside the tokio runtime.
pub fn listen() -> watch::Sender<Option<Stop>> {
    let (tx, _) = watch::channel(None);
    let mut signals = Signals::install();
    let sender = tx.clone();
    tokio::spawn(async move {
        let got = signals.next().await;
        sender.send_modify(|s| *s = Some(Stop::Signal(got)));
        loop {
            if signals.next().await == Signal::Int {
                say_briefly("second interrupt: exiting now");
                die_of(Signal::Int);
            }
        }
    });
    tx
}

/// Say `text` on stderr if it takes it within 200 ms: a stderr nobody reads must not hold a
/// process that was told to exit now.
fn say_briefly(text: &'static str) {
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("dli-wait-last-words".into())
        .spawn(move || {
            eprintln!("{text}");
            let _ = tx.send(());
        });
    if spawned.is_ok() {
        let _ = rx.recv_timeout(std::time::Duration::from_millis(200));
    }
}

/// Resolves with the signal once one is (or already was) recorded on `stop` (a
/// `--fail-fast` stop is not one): what every phase outside the waits races, so a signal is
/// honoured within the grace whatever the run is doing (fetching keys, submitting).
pub async fn interrupted(stop: &watch::Sender<Option<Stop>>) -> Signal {
    let mut rx = stop.subscribe();
    loop {
        if let Some(Stop::Signal(sig)) = *rx.borrow_and_update() {
            return sig;
        }
        if rx.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// Die of `sig` as if it had never been handled: flush what was written, restore the
/// default action and raise it again, so the parent sees death by signal (a shell's `for`
/// loop stops at Ctrl-C only then). Falls back to exiting 128 + its number.
pub fn die_of(sig: Signal) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let number = match sig {
            Signal::Hup => SIGHUP,
            Signal::Int => SIGINT,
            Signal::Term => SIGTERM,
        };
        if let Err(e) = signal_hook::low_level::emulate_default_handler(number) {
            tracing::warn!(signal = sig.name(), error = %e, "cannot die of the signal; exiting");
        }
    }
    std::process::exit(crate::wait::outcome::Outcome::Interrupted(sig).exit_code())
}

/// The signals that end a wait, listened to from the moment they are installed.
#[cfg(unix)]
struct Signals(Option<[tokio::signal::unix::Signal; 3]>);

#[cfg(unix)]
impl Signals {
    fn install() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(i), Ok(t), Ok(h)) => Signals(Some([i, t, h])),
            _ => {
                tracing::warn!(
                    "cannot install signal handlers; signals will end dli-wait without a summary"
                );
                Signals(None)
            }
        }
    }

    async fn next(&mut self) -> Signal {
        let Some([int, term, hup]) = &mut self.0 else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = int.recv() => Signal::Int,
            _ = term.recv() => Signal::Term,
            _ = hup.recv() => Signal::Hup,
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> Self {
        Signals
    }

    async fn next(&mut self) -> Signal {
        let _ = tokio::signal::ctrl_c().await;
        Signal::Int
    }
}
