//! `obs completions SHELL`: the completion script clap generates for the CLI definition.

use std::io::Write as _;

use clap::CommandFactory as _;

use crate::cli::Cli;

pub fn run(shell: clap_complete::Shell) -> anyhow::Result<u8> {
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut Cli::command(), "obs", &mut out);
    out.flush()?;
    Ok(0)
}
