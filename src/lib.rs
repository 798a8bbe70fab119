//! obs: incident investigation from the terminal.
//!
//! `main.rs` only parses arguments and maps errors to exit codes; everything else is reachable
//! from here so that tests can run it in-process. See `docs/` and the README for the design.

pub mod analysis;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod demo;
pub mod explain;
pub mod investigate;
pub mod jsonl;
pub mod model;
pub mod promql;
pub mod replay;
pub mod report;
pub mod sink;
pub mod source;
pub mod store;
pub mod timespec;
pub mod tui;

mod app;

pub use app::{error_text, exit_code, is_broken_pipe, run};
