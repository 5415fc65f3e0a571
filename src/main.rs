//! The `dli-wait` binary: everything lives in the library; this only exits with its code.

fn main() {
    std::process::exit(dli_wait::app::run(std::env::args_os()));
}
