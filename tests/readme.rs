//! The README's examples are specs users copy: each YAML block in it must still parse.
//! (No engine needed.)

use rehearsal::spec::Check;

const README: &str = include_str!("../README.md");

/// The ```yaml blocks of the README, with the line each starts at.
fn yaml_blocks() -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in README.lines().enumerate() {
        match (&mut current, line.trim_end()) {
            (None, "```yaml") => current = Some((n + 2, String::new())),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some((_, text)), _) => {
                text.push_str(line);
                text.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

#[test]
fn every_check_example_in_the_readme_parses() {
    let blocks = yaml_blocks();
    let kinds = blocks
        .iter()
        .find(|(_, b)| b.starts_with("expect:\n"))
        .expect("the README has an `expect:` example of every kind");
    #[derive(serde::Deserialize)]
    struct Expect {
        expect: Vec<Check>,
    }
    let parsed: Expect =
        serde_yaml::from_str(&kinds.1).unwrap_or_else(|e| panic!("README line {}: {e}", kinds.0));
    let mut seen: Vec<&str> = parsed.expect.iter().map(Check::kind).collect();
    seen.sort_unstable();
    seen.dedup();
    let mut all = rehearsal::spec::check::KINDS.to_vec();
    all.sort_unstable();
    assert_eq!(seen, all, "the README shows every kind");
    for (line, block) in &blocks {
        if block.starts_with("  - ") {
            let list: String = block
                .lines()
                .map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l)))
                .collect();
            let checks: Result<Vec<Check>, _> = serde_yaml::from_str(&list);
            checks.unwrap_or_else(|e| panic!("README line {line}: {e}"));
        }
    }
}
