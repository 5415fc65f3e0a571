//! The `dli-wait` binary: everything lives in the library; this only ends the process as it
//! says (an exit status, or death by the signal that interrupted it).

fn main() {
    dli_wait::cmd::run(std::env::args_os()).end()
}
