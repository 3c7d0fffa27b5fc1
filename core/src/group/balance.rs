//! The rule that spreads a group's leaderships evenly: a pure function of what one instance
//! sees, so that it is tested without a store.
//!
//! Every instance applies it to its own view (who leads each shard, who is in line for it):
//!
//! - **Campaign** (be in line for every shard it does not lead) only while it is among the
//!   least loaded live instances and below the cap. So a shard that loses its leader is taken
//!   at once by a least-loaded instance, and a released shard goes to one of them.
//! - **Leave the line** as soon as it is no longer among the least loaded.
//! - **Hand over** one shard while it leads at least two more than some live instance that is
//!   in line for that shard (or more than the cap). The successor is already waiting, so the
//!   shard moves without a gap; the store still allows one leader at a time. (The control
//!   thread acts on it once the same successor was named for a renewal period.)
//!
//! This converges to loads that differ by at most one (`ceil(K/n)` and `floor(K/n)`), and,
//! with every load equal, nothing moves.

use std::collections::{BTreeMap, BTreeSet};

/// What this instance does about one shard now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Not a candidate (may observe).
    Idle,
    /// A candidate that does not lead.
    InLine,
    /// A candidate that leads.
    Leading,
}

/// One instance's view of the group.
#[derive(Debug, Clone, Default)]
pub(crate) struct View {
    /// Who leads each shard, as observed.
    pub leaders: Vec<Option<String>>,
    /// The term of each shard's leader, as observed (0 while nobody leads).
    pub terms: Vec<u64>,
    /// The live candidates of each shard, as observed.
    pub members: Vec<BTreeSet<String>>,
}

/// What to do next.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Shards to campaign in.
    pub join: Vec<usize>,
    /// Shards to stop waiting in line for.
    pub leave: Vec<usize>,
    /// One shard to hand over, and the successor waiting for it (`None`: above the cap with
    /// nobody to take it; it is released anyway).
    pub hand_over: Option<(usize, Option<String>)>,
}

/// The plan of instance `me` with its own candidacies `mine`; `cap` is the most leaderships
/// an instance takes (`usize::MAX`: no cap).
pub(crate) fn plan(me: &str, mine: &[Slot], view: &View, cap: usize) -> Plan {
    let loads = loads(me, mine, view);
    let own = loads[me];
    let least = loads.values().copied().min().unwrap_or(0);
    let campaign = own <= least && own < cap;
    let mut plan = Plan::default();
    for (shard, slot) in mine.iter().enumerate() {
        match slot {
            Slot::Idle if campaign => plan.join.push(shard),
            Slot::InLine if !campaign => plan.leave.push(shard),
            _ => {}
        }
    }
    // The least loaded successor waiting in line for one of my shards.
    let loads = &loads;
    let successor = mine
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == Slot::Leading)
        .flat_map(|(shard, _)| {
            let members = view.members.get(shard).into_iter().flatten();
            members
                .filter(|m| m.as_str() != me)
                .map(move |m| (loads.get(m.as_str()).copied().unwrap_or(0), shard, m))
        })
        .filter(|(load, _, _)| load + 2 <= own && *load < cap)
        .min();
    plan.hand_over = match successor {
        Some((_, shard, m)) => Some((shard, Some(m.clone()))),
        None if own > cap => mine
            .iter()
            .rposition(|s| *s == Slot::Leading)
            .map(|shard| (shard, None)),
        None => None,
    };
    plan
}

/// Leaderships per live instance: every member or leader seen, and `me` (counted from its own
/// candidacies, which are ahead of what it observes).
fn loads<'a>(me: &'a str, mine: &[Slot], view: &'a View) -> BTreeMap<&'a str, usize> {
    let mut loads: BTreeMap<&str, usize> = BTreeMap::new();
    for id in view.members.iter().flatten() {
        loads.entry(id.as_str()).or_default();
    }
    for id in view.leaders.iter().flatten().filter(|id| id.as_str() != me) {
        *loads.entry(id.as_str()).or_default() += 1;
    }
    loads.insert(me, mine.iter().filter(|s| **s == Slot::Leading).count());
    loads
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A group of `k` shards where `leaders[i]` leads shard i and `in_line` wait in every shard
    /// they do not lead.
    fn view(leaders: &[Option<&str>], in_line: &[&str]) -> View {
        View {
            leaders: leaders.iter().map(|l| l.map(String::from)).collect(),
            terms: vec![0; leaders.len()],
            members: leaders
                .iter()
                .map(|l| {
                    in_line
                        .iter()
                        .copied()
                        .chain(*l)
                        .map(String::from)
                        .collect()
                })
                .collect(),
        }
    }

    fn mine(me: &str, v: &View, in_line: bool) -> Vec<Slot> {
        v.leaders
            .iter()
            .map(|l| match l.as_deref() {
                Some(id) if id == me => Slot::Leading,
                _ if in_line => Slot::InLine,
                _ => Slot::Idle,
            })
            .collect()
    }

    #[test]
    fn equal_loads_stay_put_and_keep_everyone_in_line() {
        let leaders: Vec<_> = (0..12).map(|i| Some(["a", "b", "c"][i % 3])).collect();
        let v = view(&leaders, &["a", "b", "c"]);
        for me in ["a", "b", "c"] {
            let p = plan(me, &mine(me, &v, true), &v, usize::MAX);
            assert_eq!(p, Plan::default(), "{me}");
        }
    }

    #[test]
    fn a_newcomer_campaigns_and_the_busiest_hand_over_to_it() {
        let leaders: Vec<_> = (0..12).map(|i| Some(["a", "b"][i % 2])).collect();
        let v = view(&leaders, &["c"]);
        let c = plan("c", &mine("c", &v, false), &v, usize::MAX);
        assert_eq!(c.join, (0..12).collect::<Vec<_>>());
        let a = plan("a", &mine("a", &v, false), &v, usize::MAX);
        assert_eq!(a.hand_over, Some((0, Some("c".to_string()))));
        assert!(a.join.is_empty(), "a is not among the least loaded");
    }

    #[test]
    fn one_more_than_the_least_is_balanced() {
        // 12 over 5: 3,3,2,2,2.
        let ids = ["a", "b", "c", "d", "e"];
        let owners = [0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 4];
        let leaders: Vec<_> = owners.iter().map(|o| Some(ids[*o])).collect();
        let v = view(&leaders, &["c", "d", "e"]);
        let a = plan("a", &mine("a", &v, false), &v, usize::MAX);
        assert_eq!(a, Plan::default());
        let c = plan("c", &mine("c", &v, true), &v, usize::MAX);
        assert_eq!(c.hand_over, None);
        assert!(c.leave.is_empty() && c.join.is_empty());
    }

    #[test]
    fn no_hand_over_to_someone_not_in_line() {
        let leaders: Vec<_> = (0..6)
            .map(|i| Some(if i < 5 { "a" } else { "b" }))
            .collect();
        let v = view(&leaders, &[]);
        let a = plan("a", &mine("a", &v, false), &v, usize::MAX);
        assert_eq!(a.hand_over, None, "b waits in no line of a's shards");
    }

    #[test]
    fn the_cap_stops_campaigning_and_releases_the_excess() {
        let leaders = vec![Some("a"), Some("a"), None, None];
        let v = view(&leaders, &[]);
        let at_cap = plan("a", &mine("a", &v, true), &v, 2);
        assert_eq!(at_cap.leave, vec![2, 3]);
        let above = plan("a", &mine("a", &v, false), &v, 1);
        assert_eq!(above.hand_over, Some((1, None)));
    }

    #[test]
    fn an_instance_not_yet_seen_counts_itself() {
        let v = view(&[None, None], &[]);
        let p = plan("a", &[Slot::Idle, Slot::Idle], &v, usize::MAX);
        assert_eq!(p.join, vec![0, 1]);
    }
}
