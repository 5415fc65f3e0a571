//! The built-in DLI simulator: a DLI of our own on loopback, scripted by scenario files, for
//! trying pipelines without a cloud account and for end-to-end tests. Not used by the waiter.

pub mod http;
pub mod scenario;
pub mod server;

use scenario::Scenario;
use server::Simulator;
use std::net::SocketAddr;
use std::sync::Arc;

/// The scenario `simulate` serves without `--scenario` (examples/scenarios/default.json).
pub const DEFAULT_SCENARIO: &str = include_str!("../../examples/scenarios/default.json");
/// The scenario `demo` plays (examples/scenarios/demo.json).
pub const DEMO_SCENARIO: &str = include_str!("../../examples/scenarios/demo.json");

/// A simulator serving on a socket; dropping it stops the server.
pub struct Running {
    pub addr: SocketAddr,
    pub sim: Arc<Simulator>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Bind `addr` and serve `scenario` in the background (on the current tokio runtime).
pub async fn start(scenario: Scenario, addr: SocketAddr) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let sim = Arc::new(Simulator::new(scenario));
    let handler = {
        let sim = Arc::clone(&sim);
        Arc::new(move |req: http::Request| {
            tracing::debug!(method = %req.method, path = %req.path, "simulator request");
            sim.handle(req)
        })
    };
    let task = tokio::spawn(http::serve(listener, handler));
    Ok(Running { addr, sim, task })
}
