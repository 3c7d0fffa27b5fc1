//! docs/fencing.md shows the Redis script of `fencing/redis-set.lua` (the one source of it),
//! line for line.

#[cfg(feature = "redis")]
#[test]
fn the_docs_show_the_script_the_kit_runs() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/fencing.md"))
        .expect("read docs/fencing.md");
    let block: Vec<&str> = docs
        .lines()
        .skip_while(|l| l.trim() != "```lua")
        .skip(1)
        .take_while(|l| l.trim() != "```")
        .map(str::trim)
        .collect();
    let script: Vec<&str> = elect_fencing::redis::SCRIPT.lines().collect();
    assert_eq!(
        block, script,
        "the ```lua block of docs/fencing.md differs from fencing/redis-set.lua"
    );
}
