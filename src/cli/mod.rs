//! The command line of the contract: clap's types for every command ([`args`]) and the words
//! messages and the help use for it ([`words`]: flag names, hints, the help's closing text).
//! Only this folder knows flag names; what the flags resolve to is `crate::config`'s.

pub mod args;
pub mod words;

pub use args::{
    CancelWhen, CheckArgs, Cli, Command, CompletionsArgs, History, JobType, Limit, OutputArgs,
    OutputFormat, PollPolicy, ResultFormat, RunArgs, TargetArgs, TimingArgs, Until,
};
#[cfg(feature = "simulator")]
pub use args::{DemoArgs, SimulateArgs};
pub use words::{flag, hint};
