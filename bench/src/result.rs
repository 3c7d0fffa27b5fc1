//! The result lines of `scripts/bench`: one JSON object per line, which `bench/report.py` turns
//! into bench/RESULTS.md and bench/results.png. Every benchmark of every language prints the
//! same shape: `goal` (which table of the report), what was measured (`lang`, `lib`, `store`,
//! ...) and its figures (`n`, `p50_<unit>`, `p99_<unit>`, `max_<unit>` by the one definition
//! of [`crate::stats`], or plain values such as `rss_mib`).

use serde_json::{Map, Value};

/// Prints one result line: `goal` and `fields` (keys come out sorted; readers go by key).
pub fn print(goal: &str, fields: Vec<(&str, Value)>) {
    let mut line = Map::new();
    line.insert("goal".into(), goal.into());
    for (k, v) in fields {
        line.insert(k.into(), v);
    }
    println!("{}", Value::Object(line));
}

