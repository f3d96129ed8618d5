//! Which platforms a module supports, when its spec names none: its `metadata.json`'s
//! `operatingsystem_support` (a platform whose definition says it is one of those systems
//! and releases) and `requirements` (`puppet` or `openvox` version ranges, against the
//! Puppet a platform's definition says it brings). A module whose metadata.json says
//! neither runs on every platform, as before; a platform whose definition does not say
//! what it is cannot be judged and is kept, and the reason says so.

use std::path::Path;

use serde_json::Value;

use crate::platform::Platform;

/// Whether a module runs on a platform, and why, for `--explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub platform: String,
    pub chosen: bool,
    pub why: String,
}

/// The choice of each platform for the module in `module_dir`, in the platforms' order.
pub fn choose(module_dir: &Path, platforms: &[std::sync::Arc<Platform>]) -> Vec<Choice> {
    let meta: Option<Value> = std::fs::read(module_dir.join("metadata.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    platforms
        .iter()
        .map(|platform| {
            let (chosen, why) = judge(meta.as_ref(), platform);
            Choice {
                platform: platform.name.clone(),
                chosen,
                why,
            }
        })
        .collect()
}

fn judge(meta: Option<&Value>, platform: &Platform) -> (bool, String) {
    let Some(meta) = meta else {
        return (
            true,
            "the module has no metadata.json to say otherwise".into(),
        );
    };
    let mut reasons = Vec::new();
    if let Some(support) = meta
        .get("operatingsystem_support")
        .and_then(Value::as_array)
    {
        match &platform.definition.os {
            None => reasons.push(
                "its definition names no `os`, so metadata.json's operatingsystem_support cannot rule it out".to_string(),
            ),
            Some(os) => {
                let entry = support.iter().find(|entry| {
                    entry
                        .get("operatingsystem")
                        .and_then(Value::as_str)
                        .is_some_and(|name| name.eq_ignore_ascii_case(&os.name))
                });
                let Some(entry) = entry else {
                    let names: Vec<&str> = support
                        .iter()
                        .filter_map(|e| e.get("operatingsystem").and_then(Value::as_str))
                        .collect();
                    return (
                        false,
                        format!(
                            "it is {} {}, and metadata.json supports {}",
                            os.name,
                            os.release,
                            if names.is_empty() {
                                "no operating system".to_string()
                            } else {
                                names.join(", ")
                            }
                        ),
                    );
                };
                match entry.get("operatingsystemrelease").and_then(Value::as_array) {
                    Some(releases) => {
                        let listed: Vec<&str> = releases.iter().filter_map(Value::as_str).collect();
                        if !listed.iter().any(|r| same_release(r, &os.release)) {
                            return (
                                false,
                                format!(
                                    "it is {} {}, and metadata.json supports {} {}",
                                    os.name,
                                    os.release,
                                    os.name,
                                    listed.join(", ")
                                ),
                            );
                        }
                        reasons.push(format!("metadata.json supports {} {}", os.name, os.release));
                    }
                    None => reasons.push(format!("metadata.json supports {} (any release)", os.name)),
                }
            }
        }
    }
    if let Some(requirements) = meta.get("requirements").and_then(Value::as_array) {
        for requirement in requirements {
            let name = requirement
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("");
            if name != "puppet" && name != "openvox" {
                continue;
            }
            let Some(range) = requirement
                .get("version_requirement")
                .and_then(Value::as_str)
            else {
                continue;
            };
            match &platform.definition.puppet {
                None => reasons.push(format!(
                    "its definition names no `puppet` version, so `{name} {range}` cannot rule it out"
                )),
                Some(version) => match crate::deps::metadata::satisfies(range, version) {
                    Some(false) => {
                        return (
                            false,
                            format!("its Puppet is {version}, and metadata.json requires {name} {range}"),
                        )
                    }
                    Some(true) => reasons.push(format!("its Puppet {version} meets {name} {range}")),
                    None => reasons.push(format!(
                        "metadata.json's `{name} {range}` cannot be read, so it does not rule it out"
                    )),
                },
            }
        }
    }
    if reasons.is_empty() {
        reasons.push(
            "metadata.json names neither operatingsystem_support nor a Puppet requirement".into(),
        );
    }
    (true, reasons.join("; "))
}

/// `12` is `12`, `12.0`, `12.x`; metadata.json often names majors, platforms too.
fn same_release(listed: &str, release: &str) -> bool {
    let major = |r: &str| r.split(['.', ' ']).next().unwrap_or(r).to_ascii_lowercase();
    listed.eq_ignore_ascii_case(release) || major(listed) == major(release)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platforms() -> Vec<std::sync::Arc<Platform>> {
        crate::platform::load(None)
            .unwrap()
            .into_iter()
            .map(std::sync::Arc::new)
            .collect()
    }

    fn chosen(metadata: &str) -> Vec<(String, bool)> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("metadata.json"), metadata).unwrap();
        choose(dir.path(), &platforms())
            .into_iter()
            .map(|c| (c.platform, c.chosen))
            .collect()
    }

    fn names(choices: &[(String, bool)]) -> Vec<&str> {
        choices
            .iter()
            .filter(|(_, chosen)| *chosen)
            .map(|(name, _)| name.as_str())
            .collect()
    }

    #[test]
    fn the_built_in_platforms_say_what_they_are() {
        let all = platforms();
        let os: Vec<(String, String, String)> = all
            .iter()
            .map(|p| {
                let os = p.definition.os.clone().unwrap();
                (os.name, os.release, p.definition.puppet.clone().unwrap())
            })
            .collect();
        assert_eq!(
            os,
            [
                ("Debian".into(), "11".into(), "5.5.22".into()),
                ("Debian".into(), "12".into(), "7.23.0".into()),
                ("Debian".into(), "13".into(), "8.10.0".into()),
            ]
        );
    }

    /// Shapes of real modules' metadata.json: puppetlabs-ntp (Debian among others, a
    /// Puppet range), a RedHat-only module, one naming Debian with no release list, one
    /// with neither field.
    #[test]
    fn operatingsystem_support_and_requirements_choose_the_platforms() {
        let ntp = r#"{"name":"puppetlabs-ntp","version":"10.1.0",
          "operatingsystem_support":[
            {"operatingsystem":"RedHat","operatingsystemrelease":["7","8","9"]},
            {"operatingsystem":"Debian","operatingsystemrelease":["10","11","12"]},
            {"operatingsystem":"Ubuntu","operatingsystemrelease":["20.04","22.04"]}],
          "requirements":[{"name":"puppet","version_requirement":">= 7.0.0 < 9.0.0"}]}"#;
        assert_eq!(names(&chosen(ntp)), ["debian12"]);
        let redhat = r#"{"operatingsystem_support":[{"operatingsystem":"RedHat","operatingsystemrelease":["8"]}]}"#;
        assert_eq!(names(&chosen(redhat)), Vec::<&str>::new());
        let any_debian = r#"{"operatingsystem_support":[{"operatingsystem":"debian"}]}"#;
        assert_eq!(
            names(&chosen(any_debian)),
            ["debian11", "debian12", "debian13"]
        );
        let openvox =
            r#"{"requirements":[{"name":"openvox","version_requirement":">= 8.0.0 < 9.0.0"}]}"#;
        assert_eq!(names(&chosen(openvox)), ["debian13"]);
        assert_eq!(
            names(&chosen(r#"{"name":"a-b"}"#)),
            ["debian11", "debian12", "debian13"]
        );
    }

    #[test]
    fn each_choice_says_why() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("metadata.json"),
            r#"{"operatingsystem_support":[{"operatingsystem":"Debian","operatingsystemrelease":["12","13"]}],
                "requirements":[{"name":"puppet","version_requirement":">= 8.0.0 < 9.0.0"}]}"#,
        )
        .unwrap();
        let whys: Vec<String> = choose(dir.path(), &platforms())
            .into_iter()
            .map(|c| format!("{} {}: {}", c.platform, c.chosen, c.why))
            .collect();
        assert_eq!(
            whys,
            [
                "debian11 false: it is Debian 11, and metadata.json supports Debian 12, 13",
                "debian12 false: its Puppet is 7.23.0, and metadata.json requires puppet >= 8.0.0 < 9.0.0",
                "debian13 true: metadata.json supports Debian 13; its Puppet 8.10.0 meets puppet >= 8.0.0 < 9.0.0",
            ]
        );
        let none = tempfile::tempdir().unwrap();
        assert_eq!(
            choose(none.path(), &platforms())[0].why,
            "the module has no metadata.json to say otherwise"
        );
    }
}
