//! The `obs` binary: parse arguments, run, print the error chain, pick the exit code.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = obs::cli::Cli::parse();
    match obs::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if obs::is_broken_pipe(&err) {
                // `obs … | head` closing the pipe early is not a failure.
                return ExitCode::SUCCESS;
            }
            // Not eprintln!: it panics when stderr cannot be written (a full disk).
            let _ = writeln!(std::io::stderr(), "error: {}", obs::error_text(&err));
            ExitCode::from(obs::exit_code(&err))
        }
    }
}
