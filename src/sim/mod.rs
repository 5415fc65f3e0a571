//! The built-in DLI simulator: a DLI of our own on loopback, scripted by scenario files, for
//! trying pipelines without a cloud account and for end-to-end tests. Not used by the waiter.

pub mod http;
pub mod iam;
mod lists;
mod meta;
pub mod scenario;
pub mod server;
pub mod spark;

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

/// The address to connect to for a listener bound to `addr`: for an unspecified address
/// (`0.0.0.0`, `[::]`, all interfaces) the loopback address of the same family, and an
/// IPv4-mapped address (`[::ffff:127.0.0.1]`) as the IPv4 address it is; `addr` otherwise.
/// dli-wait takes plain http only to loopback, so this is the one that works from here.
pub fn reachable(addr: SocketAddr) -> SocketAddr {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    // An IPv4-mapped address is its IPv4 address first (`[::ffff:0.0.0.0]` is all of IPv4).
    let ip = match addr.ip().to_canonical() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

impl Running {
    /// The endpoint to point dli-wait at (see [`reachable`]).
    pub fn endpoint(&self) -> String {
        format!("http://{}", reachable(self.addr))
    }

    /// Where it listens, for people: the endpoint, or the socket and then the endpoint
    /// when they differ ("all interfaces, 0.0.0.0:8090 (from here: http://127.0.0.1:8090)").
    fn listening(&self) -> String {
        let endpoint = self.endpoint();
        if self.addr.ip().to_canonical().is_unspecified() {
            format!("all interfaces, {} (from here: {endpoint})", self.addr)
        } else if reachable(self.addr) != self.addr {
            format!("{} (from here: {endpoint})", self.addr)
        } else {
            endpoint
        }
    }

    /// How to reach it, as one JSON object: endpoint, project id, keys, jobs.
    pub fn details_json(&self) -> serde_json::Value {
        let jobs: Vec<serde_json::Value> = self
            .sim
            .job_list()
            .into_iter()
            .map(|(id, name, expect)| serde_json::json!({"id": id, "name": name, "expect": expect}))
            .collect();
        serde_json::json!({
            "endpoint": self.endpoint(),
            // The socket itself: differs from the endpoint for 0.0.0.0 or [::].
            "listen": self.addr.to_string(),
            "project_id": self.sim.project_id,
            "ak": self.sim.ak,
            "sk": self.sim.sk,
            "jobs": jobs,
            // The simulated IAM (OIDC federation) and ECS metadata service: the same listener.
            "iam_endpoint": self.endpoint(),
            "metadata_endpoint": self.endpoint(),
            "idp_id": self.sim.iam.idp_id(),
        })
    }

    /// How to point dli-wait at it, for people.
    pub fn details_text(&self) -> String {
        let (endpoint, sim) = (self.endpoint(), &self.sim);
        let mut t = format!(
            "DLI simulator listening on {}\nPoint dli-wait at it with:\n  export DLI_ENDPOINT={endpoint}\n  export HUAWEICLOUD_SDK_PROJECT_ID={}\n  export HUAWEICLOUD_SDK_AK={} HUAWEICLOUD_SDK_SK={}\nJobs:\n",
            self.listening(),
            sim.project_id,
            sim.ak,
            sim.sk
        );
        let jobs = sim.job_list();
        for (id, name, expect) in &jobs {
            t.push_str(&format!(
                "  {id}  {expect:<11} {}\n",
                name.as_deref().unwrap_or("")
            ));
        }
        if let Some((id, _, _)) = jobs.first() {
            t.push_str(&format!("Then: dli-wait {id}\n"));
        }
        t.push_str(&format!(
            "Keyless instead of the key pair: it is an IAM and an ECS metadata service too:\n  export HUAWEICLOUD_SDK_IAM_ENDPOINT={endpoint} HUAWEICLOUD_SDK_IDP_ID={} HUAWEICLOUD_SDK_ID_TOKEN_FILE=<any non-empty file>\n  or: export DLI_WAIT_ECS_METADATA=1 DLI_WAIT_METADATA_ENDPOINT={endpoint}\n",
            sim.iam.idp_id()
        ));
        t.push_str("Stop with Ctrl-C.\n");
        t
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Dropping `Running` ends the connections it accepted, not only the listener: a client
    /// holding a keep-alive connection sees it closed.
    #[tokio::test]
    async fn dropping_running_closes_open_connections() {
        let scenario = Scenario::parse(DEFAULT_SCENARIO).expect("the default scenario parses");
        let running = start(scenario, SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("start the simulator");
        let mut conn = tokio::net::TcpStream::connect(running.addr)
            .await
            .expect("connect");
        conn.write_all(b"GET /_sim/health HTTP/1.1\r\nHost: sim\r\n\r\n")
            .await
            .expect("send a keep-alive request");
        // Read the whole answer (its body is `{"ok":true}`), leaving the connection open.
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        while !answer.ends_with(b"{\"ok\":true}") {
            let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf))
                .await
                .expect("an answer within 5 s")
                .expect("read the answer");
            assert!(n > 0, "closed before the answer ended: {answer:?}");
            answer.extend_from_slice(&buf[..n]);
        }
        assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");

        drop(running);
        let after = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf))
            .await
            .expect("the connection is closed once the simulator is dropped");
        assert!(
            matches!(after, Ok(0) | Err(_)),
            "the connection still answers: {after:?}"
        );
    }
}
