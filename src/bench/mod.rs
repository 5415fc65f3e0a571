//! The polling-policy benchmark: a seeded corpus of DLI-like job timelines (in the simulator's
//! scenario format), replayed through the real, pure state machine on a virtual clock, for our
//! policies and the peers' published ones. No sockets, no sleeps: thousands of jobs a second.

pub mod corpus;
pub mod peers;
pub mod replay;
