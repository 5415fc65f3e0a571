//! Waiting: the pure state machine, its delay policies, stall detection and outcomes, plus
//! the async driver that connects them to DLI through [`api::JobApi`] and emits
//! [`events::Events`]. Knows time and decisions, not JSON or terminals; imports only `dli`.

pub mod api;
pub mod driver;
pub mod events;
pub mod history;
pub mod machine;
pub mod many;
pub mod outcome;
pub mod policy;
pub mod record;
pub mod snapshot;
pub mod stall;
