//! Waiting: the pure state machine, its delay policies, stall detection and outcomes, plus
//! the async driver that connects them to the DLI client. Knows time, not JSON.

pub mod driver;
pub mod machine;
pub mod outcome;
pub mod policy;
pub mod snapshot;
pub mod stall;
