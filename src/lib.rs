//! dli-wait: wait until Huawei Cloud DLI jobs end, and exit with a status that says how.
//!
//! Data flows one way: `dli` (client, signing, faults) → `wait` (pure state machine, policies,
//! driver) → `report` (people, JSON). `sim` is a DLI of our own for trying and testing it.

pub mod cli;
pub mod cmd;
pub mod config;
pub mod dli;
pub mod kind;
pub mod report;
#[cfg(feature = "simulator")]
pub mod sim;
pub mod wait;
