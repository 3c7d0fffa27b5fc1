//! `--uri` and `--name`, checked up front so that a bad one is reported under its flag's name.

use elect_core::{Config, Result};

pub fn config(uri: &str, name: &str) -> Result<Config> {
    let config = Config::parse(uri).map_err(|e| e.context("--uri"))?;
    elect_core::validate_name(name).map_err(|e| e.context("--name"))?;
    Ok(config)
}
