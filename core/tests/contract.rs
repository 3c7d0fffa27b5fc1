//! The store contract (`elect_testkit::contract`) run against every store: the file store, and
//! real etcd, ZooKeeper, Redis, PostgreSQL and MariaDB servers (the run's shared ones when
//! `scripts/test` exported them; the restart case starts a server of its own).
//!
//! The file store has no pause case: a paused process keeps its `flock`, so nobody else can
//! lead until it dies, and it has no server to restart.

use elect_testkit::contract::{self, Subject};
use elect_testkit::succession;
use elect_testkit::Store;

elect_testkit::agent_child!();

/// The cases of one store; `$subject` makes a fresh subject for each case, `$server` (a server
/// store) adds the cases that pause a leader or restart the server, `hold` the hold-off cases
/// and `+ lease` those of the stores that keep a lease record (stickiness).
macro_rules! contract {
    ($store:ident, $subject:expr $(, $server:expr)? $(; $hold:ident $(+ $lease:ident)?)?) => {
        mod $store {
            use super::*;

            #[test]
            fn handover() {
                contract::handover(&$subject)
            }

            #[test]
            fn token_order() {
                contract::token_order(&$subject)
            }

            #[test]
            fn observers() {
                contract::observers(&$subject)
            }

            #[test]
            fn proclaim() {
                contract::proclaim(&$subject)
            }

            #[test]
            fn membership() {
                contract::membership(&$subject)
            }

            #[test]
            fn bad_input() {
                contract::bad_input(&$subject)
            }

            #[test]
            fn sigkill() {
                contract::sigkill(&$subject)
            }

            #[test]
            fn priority_preemption() {
                succession::priority_preemption(&$subject)
            }

            #[test]
            fn hand_over_to() {
                succession::hand_over_to(&$subject)
            }

            $(
                #[test]
                fn holdoff() {
                    let _ = stringify!($hold);
                    succession::holdoff(&$subject)
                }

                #[test]
                fn holdoff_spares_a_resign() {
                    succession::holdoff_spares_a_resign(&$subject)
                }

                $(
                    #[test]
                    fn sticky() {
                        let _ = stringify!($lease);
                        succession::sticky(&$subject)
                    }
                )?
            )?

            $(
                #[test]
                fn sigstop_fenced() {
                    contract::sigstop_fenced(&Subject::shared($server))
                }

                #[test]
                fn restart() {
                    contract::restart(&Subject::own($server, "restart"))
                }
            )?
        }
    };
}

contract!(file, Subject::file(); hold + lease);
contract!(etcd, Subject::shared(Store::Etcd), Store::Etcd; hold + lease);
contract!(zk, Subject::shared(Store::Zk), Store::Zk; hold);
contract!(redis, Subject::shared(Store::Redis), Store::Redis; hold + lease);
contract!(postgres, Subject::shared(Store::Postgres), Store::Postgres; hold + lease);
contract!(mysql, Subject::shared(Store::Mysql), Store::Mysql; hold + lease);

/// Groups (many elections spread over instances): 3 instances x 12 shards, one SIGKILLed and
/// brought back, on the embedded store and two server stores.
mod group {
    use super::*;
    use elect_testkit::group::spread_kill_return;

    #[test]
    fn file() {
        spread_kill_return(&Subject::file())
    }

    #[test]
    fn etcd() {
        spread_kill_return(&Subject::shared(Store::Etcd))
    }

    #[test]
    fn redis() {
        spread_kill_return(&Subject::shared(Store::Redis))
    }
}
