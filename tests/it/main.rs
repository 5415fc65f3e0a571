//! The integration tests: one binary (ripgrep's layout), so the crate links once and every
//! test runs in one pool of test threads. Each file here is what was once a test binary of
//! its own; `common` is the support they share (the simulator as a child process, the real
//! `dli-wait` binary, the oracle). The tests that need the simulator (`common`) build with
//! its feature only.

#[cfg(feature = "simulator")]
mod common;

#[cfg(feature = "simulator")]
mod action;
#[cfg(feature = "simulator")]
mod as_users_do;
#[cfg(feature = "simulator")]
mod batch;
#[cfg(feature = "simulator")]
mod body_budget;
#[cfg(feature = "simulator")]
mod cancel;
#[cfg(feature = "simulator")]
mod check;
mod completions;
#[cfg(feature = "simulator")]
mod config;
#[cfg(feature = "simulator")]
mod credentials;
mod driver;
#[cfg(feature = "simulator")]
mod examples;
#[cfg(feature = "simulator")]
mod exit_codes;
mod exit_status_table;
#[cfg(feature = "simulator")]
mod faults;
#[cfg(feature = "simulator")]
mod flink;
#[cfg(feature = "simulator")]
mod history;
#[cfg(feature = "simulator")]
mod keys;
mod layers;
#[cfg(feature = "simulator")]
mod local_faults;
#[cfg(feature = "simulator")]
mod output;
#[cfg(feature = "simulator")]
mod output_files;
#[cfg(feature = "simulator")]
mod output_safety;
#[cfg(feature = "simulator")]
mod results;
#[cfg(feature = "simulator")]
mod robustness;
#[cfg(feature = "simulator")]
mod run;
#[cfg(feature = "simulator")]
mod sdk_fidelity;
#[cfg(feature = "simulator")]
mod secrets;
#[cfg(feature = "simulator")]
mod signals;
#[cfg(feature = "simulator")]
mod signer_oracle;
#[cfg(feature = "simulator")]
mod spark;
#[cfg(feature = "simulator")]
mod wire;
