//! Acceptance coverage, from the run's own data: each resource a module declares (the
//! gate's parse of its manifests), whether a case applied it on each platform (the first
//! apply's run report), and whether a check of that case asserts it (`file /etc/motd`
//! asserts `File[/etc/motd]`). rspec-puppet measures what a catalog holds; this measures
//! what was applied to a machine and looked at.

use serde::{Deserialize, Serialize};

use super::{CaseReport, GateReport, Step};

/// A resource a module's manifest declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declaration {
    pub module: String,
    /// `File[/etc/motd]`, or `File[…]` when its title is not a literal string.
    pub resource: String,
    /// As the reports show paths (relative to the run's directory when under it).
    pub file: String,
    /// The line of its title.
    pub line: u32,
    /// The line of its resource expression (`file {`), where Puppet may place it too.
    pub at: u32,
}

/// One module's coverage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleCoverage {
    pub module: String,
    /// Resources its manifests declare.
    pub declared: usize,
    /// Of them, applied by at least one case on at least one platform.
    pub applied: usize,
    /// Of those, asserted by a check of a case that applied them.
    pub asserted: usize,
    /// Applied by at least one case on each platform.
    pub platforms: Vec<PlatformCoverage>,
    /// The declarations no case applied, in file and line order.
    pub uncovered: Vec<Declaration>,
}

impl ModuleCoverage {
    /// Applied of declared, in percent (100 for a module that declares nothing).
    pub fn percent(&self) -> f64 {
        match self.declared {
            0 => 100.0,
            n => self.applied as f64 * 100.0 / n as f64,
        }
    }
}

impl ModuleCoverage {
    /// `motd 75% (3 of 4 resources applied, 2 asserted by a check; debian12 2, debian13
    /// 3)`, for people.
    pub fn summary(&self) -> String {
        let platforms: Vec<String> = self
            .platforms
            .iter()
            .map(|p| format!("{} {}", p.platform, p.applied))
            .collect();
        format!(
            "{} {:.0}% ({} of {} {} applied, {} asserted by a check; {})",
            self.module,
            self.percent(),
            self.applied,
            self.declared,
            crate::text::plural(self.declared, "resource", "resources"),
            self.asserted,
            platforms.join(", ")
        )
    }
}

/// How many of a module's declarations were applied on one platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformCoverage {
    pub platform: String,
    pub applied: usize,
}

/// The coverage of each module the gate parsed, by module name.
pub fn of(gate: &GateReport, cases: &[&CaseReport]) -> Vec<ModuleCoverage> {
    let mut modules: Vec<&str> = gate
        .declarations
        .iter()
        .map(|d| d.module.as_str())
        .collect();
    modules.sort();
    modules.dedup();
    let mut platforms: Vec<&str> = cases.iter().map(|c| c.id.platform.as_str()).collect();
    platforms.sort();
    platforms.dedup();
    modules
        .into_iter()
        .map(|module| {
            let declared: Vec<&Declaration> = gate
                .declarations
                .iter()
                .filter(|d| d.module == module)
                .collect();
            // For each declaration: the cases that applied it, and whether one asserts it.
            let applying = |d: &Declaration| -> Vec<(&CaseReport, String)> {
                cases
                    .iter()
                    .filter_map(|case| {
                        let apply = case.step(Step::Apply)?;
                        let hit = apply.applied.iter().find(|a| {
                            a.file.as_deref() == Some(d.file.as_str())
                                && a.line.is_some_and(|l| l == d.line || l == d.at)
                        })?;
                        Some((*case, hit.resource.clone()))
                    })
                    .collect()
            };
            let mut coverage = ModuleCoverage {
                module: module.to_string(),
                declared: declared.len(),
                applied: 0,
                asserted: 0,
                platforms: platforms
                    .iter()
                    .map(|p| PlatformCoverage {
                        platform: p.to_string(),
                        applied: 0,
                    })
                    .collect(),
                uncovered: Vec::new(),
            };
            for declaration in declared {
                let hits = applying(declaration);
                if hits.is_empty() {
                    coverage.uncovered.push(declaration.clone());
                    continue;
                }
                coverage.applied += 1;
                if hits.iter().any(|(case, resource)| asserts(case, resource)) {
                    coverage.asserted += 1;
                }
                for platform in &mut coverage.platforms {
                    if hits.iter().any(|(c, _)| c.id.platform == platform.platform) {
                        platform.applied += 1;
                    }
                }
            }
            coverage.platforms.retain(|p| {
                cases
                    .iter()
                    .any(|c| c.id.platform == p.platform && c.id.module == module)
                    || p.applied > 0
            });
            coverage
        })
        .collect()
}

/// Whether one of the case's checks looks at this resource (`File[/etc/motd]`).
fn asserts(case: &CaseReport, resource: &str) -> bool {
    case.checks.iter().any(|check| {
        let (kind, subject) = check.label.split_once(' ').unwrap_or((&check.label, ""));
        let named = match kind {
            "file" | "package" | "service" | "user" | "group" | "mount" => {
                let mut type_name = kind.to_string();
                type_name[..1].make_ascii_uppercase();
                format!("{type_name}[{subject}]")
            }
            "resource" => subject.replace(['\'', '"'], ""),
            _ => return false,
        };
        named.eq_ignore_ascii_case(resource)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::diff::Declared;
    use crate::outcome::{CaseId, CheckReport, Status, StepReport};

    fn declaration(resource: &str, line: u32) -> Declaration {
        Declaration {
            module: "motd".into(),
            resource: resource.into(),
            file: "motd/manifests/init.pp".into(),
            line,
            at: line,
        }
    }

    fn case(platform: &str, applied: &[(&str, u32)], checks: &[&str]) -> CaseReport {
        CaseReport {
            id: CaseId {
                module: "motd".into(),
                case: "c".into(),
                platform: platform.into(),
            },
            spec_file: "motd/rehearsal.yaml".into(),
            started_at: Default::default(),
            duration: Default::default(),
            steps: vec![StepReport {
                step: Step::Apply,
                status: Status::Passed,
                duration: Default::default(),
                message: None,
                errors: Vec::new(),
                output: String::new(),
                slowest: Vec::new(),
                without_driver: false,
                applied: applied
                    .iter()
                    .map(|(resource, line)| Declared {
                        resource: resource.to_string(),
                        file: Some("motd/manifests/init.pp".into()),
                        line: Some(*line),
                    })
                    .collect(),
            }],
            checks: checks
                .iter()
                .map(|label| CheckReport {
                    label: label.to_string(),
                    status: Status::Passed,
                    failures: Vec::new(),
                    line: None,
                })
                .collect(),
            kept_container: None,
            removal: Default::default(),
            fixtures: Vec::new(),
            attempts: Vec::new(),
        }
    }

    #[test]
    fn applied_asserted_and_uncovered_declarations_by_platform() {
        let gate = GateReport {
            declarations: vec![
                declaration("File[/etc/motd]", 3),
                declaration("Package[motd-news]", 7),
                declaration("Service[motd]", 11),
                declaration("Exec[stamp]", 15),
            ],
            ..GateReport::default()
        };
        let cases = [
            case(
                "debian12",
                &[("File[/etc/motd]", 3), ("Package[motd-news]", 7)],
                &["file /etc/motd"],
            ),
            case(
                "debian13",
                &[("File[/etc/motd]", 3), ("Service[motd]", 11)],
                &["resource Service['motd']"],
            ),
        ];
        let cases: Vec<&CaseReport> = cases.iter().collect();
        let coverage = of(&gate, &cases);
        assert_eq!(coverage.len(), 1);
        let motd = &coverage[0];
        assert_eq!((motd.declared, motd.applied, motd.asserted), (4, 3, 2));
        assert_eq!(motd.percent(), 75.0);
        assert_eq!(
            motd.platforms,
            [
                PlatformCoverage {
                    platform: "debian12".into(),
                    applied: 2
                },
                PlatformCoverage {
                    platform: "debian13".into(),
                    applied: 2
                },
            ]
        );
        assert_eq!(motd.uncovered, [declaration("Exec[stamp]", 15)]);
    }

    /// A resource Puppet places at its expression's line (a body on a later line) is the
    /// same declaration; one in another file or at another line is not.
    #[test]
    fn a_resource_matches_its_title_or_its_expression_line_in_its_file() {
        let mut d = declaration("File[/b]", 6);
        d.at = 5;
        let gate = GateReport {
            declarations: vec![d],
            ..GateReport::default()
        };
        let at_expression = [case("debian12", &[("File[/b]", 5)], &[])];
        let elsewhere = [case("debian12", &[("File[/b]", 9)], &[])];
        for (cases, applied) in [(&at_expression, 1), (&elsewhere, 0)] {
            let cases: Vec<&CaseReport> = cases.iter().collect();
            assert_eq!(of(&gate, &cases)[0].applied, applied);
        }
    }
}
