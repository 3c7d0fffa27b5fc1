//! Helpers every store's integration tests share: now `elect_testkit::wait`, under the names the
//! test files use (`mod common;`).

#![allow(unused_imports)] // not every test crate uses every helper

pub use elect_testkit::wait::{expect_within, open_recording};
