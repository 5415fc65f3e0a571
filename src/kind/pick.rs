//! The one place a job type becomes a kind: `--job-type` for a wait (`sql`, `spark`,
//! `flink`), `--spark-file` or not for `run` (which submits no Flink jobs). A new kind is one more arm here (and a value of `--job-type`).

use crate::cli::{JobType, RunArgs};

/// The job type `run` submits: a Spark batch when given `--spark-file`, else SQL.
pub fn of_run(args: &RunArgs) -> JobType {
    if args.spark_file.is_some() {
        JobType::Spark
    } else {
        JobType::Sql
    }
}

/// `$body` with the type `$k` the kind that `$job_type` (a `cli::JobType`) names: the one
/// place a job type becomes a kind. A new kind is one more arm.
macro_rules! with_kind {
    ($job_type:expr, $k:ident => $body:expr) => {
        match $job_type {
            $crate::cli::JobType::Sql => {
                type $k = $crate::kind::sql::Sql;
                $body
            }
            $crate::cli::JobType::Spark => {
                type $k = $crate::kind::spark::Spark;
                $body
            }
            $crate::cli::JobType::Flink => {
                type $k = $crate::kind::flink::Flink;
                $body
            }
        }
    };
}
pub(crate) use with_kind;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn run_args(args: &[&str]) -> RunArgs {
        let cli = Cli::try_parse_from(args).expect("parses");
        match cli.command {
            Some(Command::Run(r)) => *r,
            _ => panic!("not a run"),
        }
    }

    #[test]
    fn run_submits_a_spark_batch_only_with_a_spark_file() {
        let sql = run_args(&["dli-wait", "run", "--sql", "SELECT 1"]);
        assert_eq!(of_run(&sql), JobType::Sql);
        let spark = run_args(&["dli-wait", "run", "--spark-file", "batch.json"]);
        assert_eq!(of_run(&spark), JobType::Spark);
    }
}
