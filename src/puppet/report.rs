//! An apply's transaction report, as the driver writes it (Puppet's own `to_data_hash`, as
//! JSON): what each resource did, and where it is declared. Verdict details are read from
//! it, not from Puppet's console text. Only the fields rehearsal reads are kept; the
//! shapes of Puppet 5.5, 7 and 8 (report formats 10 and 12) are the same for them, and the
//! tests hold a real report of each.

use std::fmt;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;

use crate::outcome::ResourceTime;

#[derive(Debug, Clone, Deserialize)]
pub struct Report {
    #[serde(default)]
    pub puppet_version: String,
    /// `changed`, `unchanged` or `failed`.
    #[serde(default)]
    pub status: String,
    /// In the order Puppet evaluated them.
    #[serde(default)]
    pub resource_statuses: IndexMap<String, ResourceStatus>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ResourceStatus {
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub line: Option<u32>,
    #[serde(default)]
    pub changed: bool,
    #[serde(default)]
    pub failed: bool,
    #[serde(default)]
    pub evaluation_time: Option<f64>,
    #[serde(default)]
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    #[serde(default)]
    pub property: Option<String>,
    #[serde(default)]
    pub previous_value: Value,
    #[serde(default)]
    pub desired_value: Value,
    /// `success`, `failure`, `noop` or `audit`.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub message: Option<String>,
}

/// One property a resource changed, and where the resource is declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `File[/etc/motd]`.
    pub resource: String,
    /// The manifest that declares it, as the report names it (a container path until the
    /// caller maps it); `None` when Puppet did not say (or the change came from the text).
    pub file: Option<String>,
    pub line: Option<u32>,
    /// `content`, `ensure`, `returns`; `None` for a refresh or a change read from text.
    pub property: Option<String>,
    pub previous: Option<String>,
    pub desired: Option<String>,
}

impl Change {
    /// A change known only by its resource's name (read from Puppet's console text).
    pub fn named(resource: String) -> Change {
        Change {
            resource,
            file: None,
            line: None,
            property: None,
            previous: None,
            desired: None,
        }
    }
}

/// Where a resource is declared, as people read it: `file:line`, or the file alone.
pub fn place(file: Option<&str>, line: Option<u32>) -> Option<String> {
    match (file, line) {
        (Some(file), Some(line)) => Some(format!("{file}:{line}")),
        (Some(file), None) => Some(file.to_string()),
        _ => None,
    }
}

/// A resource that failed in an apply, and where it is declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub resource: String,
    /// As the report names it (a container path until the caller maps it).
    pub file: Option<String>,
    pub line: Option<u32>,
    pub message: String,
}

/// `Exec[fail] (m/manifests/init.pp:4): change from 'notrun' to ['0'] failed: …`.
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.resource)?;
        if let Some(place) = place(self.file.as_deref(), self.line) {
            write!(f, " ({place})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// `Exec[stamp] (drift/manifests/init.pp:4) returns: notrun → 0`.
impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.resource)?;
        if let Some(place) = place(self.file.as_deref(), self.line) {
            write!(f, " ({place})")?;
        }
        if let Some(property) = &self.property {
            write!(f, " {property}")?;
            if let (Some(previous), Some(desired)) = (&self.previous, &self.desired) {
                write!(f, ": {previous} → {desired}")?;
            }
        }
        Ok(())
    }
}

impl Report {
    pub fn parse(json: &str) -> Result<Report, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The `count` resources Puppet took longest to evaluate, slowest first (those that
    /// took under a millisecond are no news); file paths as the report names them.
    pub fn slowest(&self, count: usize) -> Vec<ResourceTime> {
        let mut timed: Vec<ResourceTime> = self
            .resource_statuses
            .iter()
            .filter_map(|(resource, status)| {
                let seconds = status.evaluation_time?;
                (seconds.is_finite() && seconds >= 0.001).then(|| ResourceTime {
                    resource: resource.clone(),
                    file: status.file.clone(),
                    line: status.line,
                    duration: Duration::from_secs_f64(seconds),
                })
            })
            .collect();
        timed.sort_by_key(|timed| std::cmp::Reverse(timed.duration));
        timed.truncate(count);
        timed
    }

    /// The resources that failed, each with Puppet's words for why (its failed events'
    /// messages, else a plain "failed"), in the order Puppet names them.
    pub fn failures(&self) -> Vec<Failure> {
        self.resource_statuses
            .iter()
            .filter(|(_, status)| status.failed)
            .map(|(resource, status)| {
                let said: Vec<&str> = status
                    .events
                    .iter()
                    .filter(|e| e.status == "failure")
                    .filter_map(|e| e.message.as_deref())
                    .collect();
                Failure {
                    resource: resource.clone(),
                    file: status.file.clone(),
                    line: status.line,
                    message: match said.is_empty() {
                        true => "failed".to_string(),
                        false => said.join("; "),
                    },
                }
            })
            .collect()
    }

    /// Every property changed (an event that succeeded), resource by resource in the
    /// order Puppet names them; a resource changed with no such event (a refresh) once,
    /// by name.
    pub fn changes(&self) -> Vec<Change> {
        let mut changes = Vec::new();
        for (resource, status) in &self.resource_statuses {
            if !status.changed {
                continue;
            }
            let before = changes.len();
            for event in status.events.iter().filter(|e| e.status == "success") {
                changes.push(Change {
                    resource: resource.clone(),
                    file: status.file.clone(),
                    line: status.line,
                    property: event.property.clone(),
                    previous: Some(value_text(&event.previous_value)),
                    desired: Some(value_text(&event.desired_value)),
                });
            }
            if changes.len() == before {
                changes.push(Change {
                    file: status.file.clone(),
                    line: status.line,
                    ..Change::named(resource.clone())
                });
            }
        }
        changes
    }
}

/// A property's value as a person reads it: a string bare, a list of one as its item
/// (`returns: ["0"]` → `0`), anything else as JSON; nothing (`null`) as `absent`.
fn value_text(value: &Value) -> String {
    match value {
        Value::Null => "absent".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.len() == 1 => value_text(&items[0]),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Report {
        let path = format!(
            "{}/tests/fixtures/reports/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        Report::parse(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    /// Real reports of the same manifest's first apply (a file created, an exec run) from
    /// Puppet 5.5 (Debian 11), 7.23 (12) and 8.10 (13), written by the driver.
    #[test]
    fn every_puppets_report_names_the_changes_and_their_place() {
        for (name, version) in [
            ("puppet-5.5.json", "5.5.22"),
            ("puppet-7.23.json", "7.23.0"),
            ("puppet-8.10.json", "8.10.0"),
        ] {
            let report = fixture(name);
            assert_eq!(report.puppet_version, version, "{name}");
            assert_eq!(report.status, "changed", "{name}");
            let changes: Vec<String> = report.changes().iter().map(|c| c.to_string()).collect();
            assert_eq!(
                changes,
                [
                    "File[/etc/drift] (/etc/rehearsal/modules/drift/manifests/init.pp:2) \
                     ensure: absent → file",
                    "Exec[stamp] (/etc/rehearsal/modules/drift/manifests/init.pp:7) returns: \
                     notrun → 0",
                ],
                "{name}"
            );
        }
    }

    /// Real reports of one failed apply (a file written, an exec and a package that fail)
    /// from Puppet 5.5, 7.23 and 8.10: the failed resources with Puppet's words and their
    /// place, in Puppet's order; the slowest resources, slowest first.
    #[test]
    fn every_puppets_report_names_the_failures_and_the_slowest() {
        for (name, version) in [
            ("puppet-5.5-failed.json", "5.5.22"),
            ("puppet-7.23-failed.json", "7.23.0"),
            ("puppet-8.10-failed.json", "8.10.0"),
        ] {
            let report = fixture(name);
            assert_eq!(report.puppet_version, version, "{name}");
            assert_eq!(report.status, "failed", "{name}");
            let failures: Vec<String> = report.failures().iter().map(|f| f.to_string()).collect();
            assert_eq!(
                failures,
                [
                    "Exec[fails] (/d/fail.pp:2): change from 'notrun' to ['0'] failed: \
                     '/bin/false' returned 1 instead of one of [0]",
                    "Package[no-such-package-rehearsal] (/d/fail.pp:3): change from 'purged' \
                     to 'present' failed: Execution of '/usr/bin/dpkg --force-confold -i \
                     /nonexistent.deb' returned 2: dpkg: error: cannot access archive \
                     '/nonexistent.deb': No such file or directory",
                ],
                "{name}"
            );
            let slowest = report.slowest(2);
            assert_eq!(slowest.len(), 2, "{name}");
            assert!(slowest[0].duration >= slowest[1].duration, "{name}");
            let timed: Vec<f64> = report
                .resource_statuses
                .values()
                .filter_map(|s| s.evaluation_time)
                .collect();
            let most = timed.iter().cloned().fold(0.0, f64::max);
            assert_eq!(slowest[0].duration, Duration::from_secs_f64(most), "{name}");
            assert_eq!(
                slowest[0].line.is_some(),
                slowest[0].file.is_some(),
                "{name}"
            );
        }
        assert!(fixture("puppet-7.23.json").failures().is_empty());
    }

    #[test]
    fn values_read_as_people_write_them() {
        use serde_json::json;
        assert_eq!(value_text(&json!(["0"])), "0");
        assert_eq!(value_text(&json!(null)), "absent");
        assert_eq!(value_text(&json!("{sha256}ab")), "{sha256}ab");
        assert_eq!(value_text(&json!(["a", "b"])), r#"["a","b"]"#);
        assert_eq!(value_text(&json!(true)), "true");
    }

    #[test]
    fn a_change_without_a_place_or_values_says_what_it_knows() {
        assert_eq!(
            Change::named("Service[cron]".into()).to_string(),
            "Service[cron]"
        );
        let refresh = Change {
            file: Some("m/manifests/init.pp".into()),
            line: Some(3),
            ..Change::named("Service[cron]".into())
        };
        assert_eq!(refresh.to_string(), "Service[cron] (m/manifests/init.pp:3)");
    }
}
