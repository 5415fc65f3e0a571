//! The `dli-wait` binary: everything lives in the library; this only exits with its status.

fn main() {
    std::process::exit(dli_wait::cmd::run(std::env::args_os()));
}
