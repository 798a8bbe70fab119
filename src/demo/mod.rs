//! placeholder
pub fn command(_cli: &crate::cli::Cli, _args: &crate::cli::DemoArgs) -> anyhow::Result<u8> {
    Ok(0)
}
