//! Shards: one plan split over N Jenkins agents, each running its part (`--shard K/N`).
//!
//! Every agent computes the same plan, so the split must be deterministic and must lose
//! or double nothing. Without history, cases are dealt round-robin in plan order (which
//! spreads each module's cases and platforms over the shards). With a previous JSON
//! report (`--timings`), the longest cases are placed first, each on the shard with the
//! least work so far (the classic LPT rule), so shards end at about the same time; a case
//! the report does not know is assumed to take the median recorded time.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::outcome::CaseId;

/// `K/N`: part K (1-based) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(text: &str) -> Result<Shard, String> {
        let bad = || format!("invalid shard `{text}`: write K/N with 1 <= K <= N, like 2/4");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Why a `--timings` file gives no durations.
#[derive(Debug, thiserror::Error)]
pub enum TimingsError {
    #[error("not a rehearsal JSON report: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a rehearsal JSON report: it has no `cases` list")]
    NoCases,
}

/// Recorded case durations, from a previous run's JSON report.
#[derive(Debug, Clone, Default)]
pub struct Timings(HashMap<CaseId, Duration>);

impl Timings {
    /// Reads the `cases[].id` and `cases[].duration` of a JSON report.
    pub fn from_report(json: &str) -> Result<Timings, TimingsError> {
        let doc: serde_json::Value = serde_json::from_str(json)?;
        let cases = doc["cases"].as_array().ok_or(TimingsError::NoCases)?;
        let mut timings = HashMap::new();
        for case in cases {
            let id = &case["id"];
            let (Some(module), Some(name), Some(platform), Some(secs)) = (
                id["module"].as_str(),
                id["case"].as_str(),
                id["platform"].as_str(),
                case["duration"].as_f64(),
            ) else {
                continue;
            };
            if secs.is_finite() && secs >= 0.0 {
                timings.insert(
                    CaseId {
                        module: module.into(),
                        case: name.into(),
                        platform: platform.into(),
                    },
                    Duration::from_secs_f64(secs),
                );
            }
        }
        Ok(Timings(timings))
    }

    /// Adds another report's timings (one report per shard of the last build).
    pub fn extend(&mut self, other: Timings) {
        self.0.extend(other.0);
    }

    fn median(&self) -> Duration {
        let mut all: Vec<Duration> = self.0.values().copied().collect();
        all.sort_unstable();
        all.get(all.len() / 2)
            .copied()
            .unwrap_or(Duration::from_secs(1))
    }
}

/// The positions (into `ids`, in plan order) that belong to `shard`.
pub fn assign(ids: &[CaseId], shard: Shard, timings: Option<&Timings>) -> Vec<usize> {
    let owner: Vec<usize> = match timings {
        None => (0..ids.len()).map(|i| i % shard.count).collect(),
        Some(timings) => balance(ids, shard.count, timings),
    };
    (0..ids.len())
        .filter(|&i| owner[i] == shard.index - 1)
        .collect()
}

/// Longest first, each to the least-loaded shard (ties: the lower shard, the earlier case).
fn balance(ids: &[CaseId], count: usize, timings: &Timings) -> Vec<usize> {
    let guess = timings.median();
    let cost = |i: usize| timings.0.get(&ids[i]).copied().unwrap_or(guess);
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by(|&a, &b| cost(b).cmp(&cost(a)).then(ids[a].cmp(&ids[b])));
    let mut load = vec![Duration::ZERO; count];
    let mut owner = vec![0; ids.len()];
    for i in order {
        let (least, _) = load
            .iter()
            .enumerate()
            .min_by(|(a, x), (b, y)| x.cmp(y).then(a.cmp(b)))
            .expect("at least one shard");
        owner[i] = least;
        load[least] += cost(i);
    }
    owner
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<CaseId> {
        (0..n)
            .map(|i| CaseId {
                module: format!("m{}", i % 4),
                case: format!("c{i}"),
                platform: ["debian11", "debian12", "debian13"][i % 3].into(),
            })
            .collect()
    }

    #[test]
    fn parses_k_of_n() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/3", "4/3", "1/0", "a/b", "3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shards_partition_the_plan_with_nothing_lost_or_doubled() {
        for n in 1..=7 {
            for total in [0, 1, 5, 23] {
                let all = ids(total);
                let mut seen = vec![0; total];
                for k in 1..=n {
                    let part = assign(&all, Shard { index: k, count: n }, None);
                    for i in part {
                        seen[i] += 1;
                    }
                }
                assert!(
                    seen.iter().all(|&s| s == 1),
                    "n={n} total={total}: {seen:?}"
                );
            }
        }
    }

    #[test]
    fn recorded_timings_balance_the_shards_and_stay_a_partition() {
        let all = ids(10);
        // One long case and nine short ones: the long one gets a shard to itself.
        let mut report = serde_json::json!({ "cases": [] });
        for (i, id) in all.iter().enumerate() {
            let secs = if i == 3 { 90.0 } else { 10.0 };
            report["cases"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({ "id": id, "duration": secs }));
        }
        let timings = Timings::from_report(&report.to_string()).unwrap();
        let first = assign(&all, Shard { index: 1, count: 2 }, Some(&timings));
        let second = assign(&all, Shard { index: 2, count: 2 }, Some(&timings));
        assert_eq!(first, [3], "the 90s case alone");
        assert_eq!(second.len(), 9);
        // A case the report does not know counts as the median, and is still placed.
        let more = ids(12);
        let parts: Vec<Vec<usize>> = (1..=3)
            .map(|k| assign(&more, Shard { index: k, count: 3 }, Some(&timings)))
            .collect();
        let mut all_placed: Vec<usize> = parts.concat();
        all_placed.sort_unstable();
        assert_eq!(all_placed, (0..12).collect::<Vec<_>>());
        // The same input gives the same split.
        assert_eq!(
            parts[0],
            assign(&more, Shard { index: 1, count: 3 }, Some(&timings))
        );
    }

    #[test]
    fn a_report_that_is_not_one_says_so() {
        assert!(Timings::from_report("{")
            .unwrap_err()
            .to_string()
            .contains("not a rehearsal JSON report"));
        assert!(Timings::from_report("{}")
            .unwrap_err()
            .to_string()
            .contains("no `cases`"));
    }
}
