//! Agents of a test binary: the binary re-executed as `elect agent --stamp` (through
//! [`agent_child!`](crate::agent_child)), so that a test needs no separately built `elect`.

use crate::fleet::Fleet;

/// Set in the environment of a test binary re-executed as an agent.
pub const ENV: &str = "ELECT_TESTKIT_AGENT";

/// A fleet whose agents are this test binary's `agent_child` test, which the test file defines
/// with [`agent_child!`](crate::agent_child).
pub fn fleet() -> Fleet {
    let exe = std::env::current_exe().expect("the test binary's path");
    let args = [
        "agent_child",
        "--exact",
        "--nocapture",
        "-q",
        "--test-threads=1",
    ];
    Fleet::new(exe, args.map(String::from).to_vec()).env(ENV, "1")
}

/// Defines the test `agent_child`: idle in a normal run, the agent in a process started by
/// [`fleet`]. Put it at the root of a test file that depends on `elect-cli`.
#[macro_export]
macro_rules! agent_child {
    () => {
        #[test]
        fn agent_child() {
            if ::std::env::var_os($crate::agent::ENV).is_some() {
                ::std::process::exit(::elect_cli::agent::main(true));
            }
        }
    };
}
