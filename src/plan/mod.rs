//! Planning: from specs and platforms to the ordered list of (module, case, platform)
//! rows a run will execute. Pure logic; nothing here touches the engine.

pub mod shard;
pub mod support;

use std::sync::Arc;

use crate::outcome::CaseId;
use crate::platform::Platform;
use crate::spec::{ModuleSpec, SpecError};

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// `--platform` names a platform that has no definition.
    #[error("unknown platform `{name}` (known: {known})")]
    UnknownPlatform { name: String, known: String },
    /// A spec's `platforms:` names one, at its line and column.
    #[error("{0}")]
    Spec(SpecError),
    /// A `--case` glob that does not parse.
    #[error("invalid --case `{glob}`: {source}")]
    CaseGlob {
        glob: String,
        source: globset::Error,
    },
}

/// One row of the plan.
#[derive(Debug, Clone)]
pub struct PlannedCase {
    pub spec: Arc<ModuleSpec>,
    /// Index into `spec.cases`.
    pub case: usize,
    pub platform: Arc<Platform>,
}

/// The platforms of a plan, each once, in plan order.
pub fn platforms_of(plan: &[PlannedCase]) -> Vec<Arc<Platform>> {
    let mut platforms: Vec<Arc<Platform>> = Vec::new();
    for row in plan {
        if !platforms.iter().any(|p| p.name == row.platform.name) {
            platforms.push(row.platform.clone());
        }
    }
    platforms
}

impl PlannedCase {
    pub fn id(&self) -> CaseId {
        CaseId {
            module: self.spec.module_name.clone(),
            case: self.spec.cases[self.case].name.clone(),
            platform: self.platform.name.clone(),
        }
    }

    pub fn case(&self) -> &crate::spec::Case {
        &self.spec.cases[self.case]
    }
}

/// What to leave out of the plan.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these platforms (all when empty).
    pub platforms: Vec<String>,
    /// Only the cases whose name matches one of these globs (`*`, `?`, `[ab]`; all when
    /// empty).
    pub cases: Vec<String>,
}

/// The `--case` globs as one matcher; a bad glob is an error that names it.
fn case_matcher(globs: &[String]) -> Result<Option<globset::GlobSet>, PlanError> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut set = globset::GlobSetBuilder::new();
    for glob in globs {
        set.add(
            globset::Glob::new(glob).map_err(|source| PlanError::CaseGlob {
                glob: glob.clone(),
                source,
            })?,
        );
    }
    set.build().map(Some).map_err(|source| PlanError::CaseGlob {
        glob: globs.join(" "),
        source,
    })
}

/// Builds the plan. A spec naming an unknown platform is an error at its line in the spec.
pub fn plan(
    specs: &[Arc<ModuleSpec>],
    platforms: &[Arc<Platform>],
    filter: &Filter,
) -> Result<Vec<PlannedCase>, PlanError> {
    let known: Vec<&str> = platforms.iter().map(|p| p.name.as_str()).collect();
    for wanted in &filter.platforms {
        if !known.contains(&wanted.as_str()) {
            return Err(PlanError::UnknownPlatform {
                name: wanted.clone(),
                known: known.join(", "),
            });
        }
    }
    let cases = case_matcher(&filter.cases)?;
    let mut rows = Vec::new();
    for spec in specs {
        let names: Vec<&str> = match &spec.platforms {
            Some(names) => {
                for (index, name) in names.iter().enumerate() {
                    if !known.contains(&name.as_str()) {
                        return Err(PlanError::Spec(SpecError {
                            file: spec.file.clone(),
                            position: spec.platform_positions.get(index).copied(),
                            message: format!(
                                "unknown platform `{name}` (known: {})",
                                known.join(", ")
                            ),
                        }));
                    }
                }
                names.iter().map(String::as_str).collect()
            }
            // None named: those its metadata.json supports (all, when it says nothing).
            None => support::choose(&spec.module_dir, platforms)
                .into_iter()
                .filter(|choice| choice.chosen)
                .filter_map(|choice| known.iter().copied().find(|k| *k == choice.platform))
                .collect(),
        };
        for (case, c) in spec.cases.iter().enumerate() {
            if cases.as_ref().is_some_and(|set| !set.is_match(&c.name)) {
                continue;
            }
            for platform in platforms {
                if !names.contains(&platform.name.as_str()) {
                    continue;
                }
                if !filter.platforms.is_empty() && !filter.platforms.contains(&platform.name) {
                    continue;
                }
                rows.push(PlannedCase {
                    spec: spec.clone(),
                    case,
                    platform: platform.clone(),
                });
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, yaml: &str) -> Arc<ModuleSpec> {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.keep().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        Arc::new(crate::spec::parse(&dir.join("rehearsal.yaml"), yaml).unwrap())
    }

    fn platforms() -> Vec<Arc<Platform>> {
        crate::platform::load(None)
            .unwrap()
            .into_iter()
            .map(Arc::new)
            .collect()
    }

    fn rows(plan: &[PlannedCase]) -> Vec<String> {
        plan.iter()
            .map(|r| format!("{}/{}/{}", r.id().module, r.id().case, r.id().platform))
            .collect()
    }

    #[test]
    fn every_case_on_every_platform_by_default() {
        let s = spec(
            "motd",
            "cases:\n  a:\n    manifest: x\n  b:\n    manifest: y\n",
        );
        let plan = plan(&[s], &platforms(), &Filter::default()).unwrap();
        assert_eq!(plan.len(), 6);
        assert_eq!(
            rows(&plan)[..3],
            ["motd/a/debian11", "motd/a/debian12", "motd/a/debian13"]
        );
    }

    #[test]
    fn spec_platforms_and_the_filter_narrow_it() {
        let s = spec(
            "motd",
            "platforms: [debian12, debian13]\ncases:\n  a:\n    manifest: x\n",
        );
        let all = plan(std::slice::from_ref(&s), &platforms(), &Filter::default()).unwrap();
        assert_eq!(rows(&all), ["motd/a/debian12", "motd/a/debian13"]);
        let filter = Filter {
            platforms: vec!["debian13".into()],
            ..Filter::default()
        };
        assert_eq!(
            rows(&plan(&[s], &platforms(), &filter).unwrap()),
            ["motd/a/debian13"]
        );
    }

    #[test]
    fn unknown_platforms_are_errors() {
        let s = spec(
            "motd",
            "platforms: [debian99]\ncases:\n  a:\n    manifest: x\n",
        );
        let err = plan(std::slice::from_ref(&s), &platforms(), &Filter::default())
            .unwrap_err()
            .to_string();
        // At its line and column, like every other spec error.
        assert!(
            err.ends_with(
                "rehearsal.yaml:1:13: unknown platform `debian99` (known: debian11, debian12, debian13)"
            ),
            "{err}"
        );
        let filter = Filter {
            platforms: vec!["centos".into()],
            ..Filter::default()
        };
        assert!(plan(&[s], &platforms(), &filter)
            .unwrap_err()
            .to_string()
            .starts_with("unknown platform `centos`"));
    }

    #[test]
    fn case_globs_select_cases_by_name() {
        let s = spec(
            "web",
            "cases:\n  default: {manifest: x}\n  port from hiera: {manifest: x}\n  rejects a bad port: {manifest: x}\n",
        );
        let platforms = vec![platforms().remove(0)];
        let filter = |globs: &[&str]| Filter {
            cases: globs.iter().map(|g| g.to_string()).collect(),
            ..Filter::default()
        };
        let names = |f: Filter| -> Vec<String> {
            plan(std::slice::from_ref(&s), &platforms, &f)
                .unwrap()
                .iter()
                .map(|r| r.id().case)
                .collect()
        };
        assert_eq!(
            names(filter(&["*port*"])),
            ["port from hiera", "rejects a bad port"]
        );
        assert_eq!(
            names(filter(&["default", "rej*"])),
            ["default", "rejects a bad port"]
        );
        assert!(names(filter(&["nothing*"])).is_empty());
        let err = plan(std::slice::from_ref(&s), &platforms, &filter(&["[oops"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid --case `[oops`"), "{err}");
    }
}
