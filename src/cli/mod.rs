//! The command line (clap): its types, in [`args`].

pub mod args;

pub use args::*;
