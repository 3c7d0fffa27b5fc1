//! The child side of [`super::Agent`]: the scenario agent (`elect agent`), run by this test
//! binary's `child_agent` test when [`ENV`] is set.

pub const ENV: &str = "ELECT_REDIS_TEST_CHILD";

pub fn run() {
    std::process::exit(elect_cli::agent::main(false));
}
