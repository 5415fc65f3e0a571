//! The DLI API: typed models, request signing, fault classification and the HTTP client.
//! Knows HTTP and JSON, nothing of waiting.

pub mod auth;
pub mod bounded;
pub mod client;
pub mod credentials;
pub mod fault;
pub mod human;
pub mod job_id;
pub mod list;
pub mod model;
pub mod net;
pub mod pacer;
pub mod sign;
pub mod spark;
