//! Planning: from specs and platforms to the ordered list of (module, case, platform)
//! rows a run will execute. Pure logic; nothing here touches the engine.

pub mod shard;

use std::sync::Arc;

use crate::platform::Platform;
use crate::report::CaseId;
use crate::spec::ModuleSpec;

/// One row of the plan.
#[derive(Debug, Clone)]
pub struct PlannedCase {
    pub spec: Arc<ModuleSpec>,
    /// Index into `spec.cases`.
    pub case: usize,
    pub platform: Arc<Platform>,
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
}

/// Builds the plan. A spec naming an unknown platform is an error naming the spec.
pub fn plan(
    specs: &[Arc<ModuleSpec>],
    platforms: &[Arc<Platform>],
    filter: &Filter,
) -> Result<Vec<PlannedCase>, String> {
    let known: Vec<&str> = platforms.iter().map(|p| p.name.as_str()).collect();
    for wanted in &filter.platforms {
        if !known.contains(&wanted.as_str()) {
            return Err(format!(
                "unknown platform `{wanted}` (known: {})",
                known.join(", ")
            ));
        }
    }
    let mut rows = Vec::new();
    for spec in specs {
        let names: Vec<&str> = match &spec.platforms {
            Some(names) => {
                for name in names {
                    if !known.contains(&name.as_str()) {
                        return Err(format!(
                            "{}: unknown platform `{name}` (known: {})",
                            spec.file.display(),
                            known.join(", ")
                        ));
                    }
                }
                names.iter().map(String::as_str).collect()
            }
            None => known.clone(),
        };
        for (case, _) in spec.cases.iter().enumerate() {
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
        let err = plan(std::slice::from_ref(&s), &platforms(), &Filter::default()).unwrap_err();
        assert!(
            err.ends_with(
                "rehearsal.yaml: unknown platform `debian99` (known: debian11, debian12, debian13)"
            ),
            "{err}"
        );
        let filter = Filter {
            platforms: vec!["centos".into()],
        };
        assert!(plan(&[s], &platforms(), &filter)
            .unwrap_err()
            .starts_with("unknown platform `centos`"));
    }
}
