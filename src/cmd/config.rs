//! `obs config`: the resolved configuration, secrets masked, each value's origin. Rendering is
//! `config::render_toml` (text) or the `Config`'s own serialisation (JSON), both masking.

use crate::cli::{Cli, Output};
use crate::config::{self, Overrides};

use super::{load_config, print};

pub fn run(cli: &Cli) -> anyhow::Result<u8> {
    let config = load_config(cli, &Overrides::default())?;
    let text = match cli.global.output {
        Output::Text | Output::Markdown => config::render_toml(&config),
        Output::Json => serde_json::to_string_pretty(&config)? + "\n",
    };
    print(&text)?;
    Ok(0)
}
