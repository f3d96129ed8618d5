//! Two compiled catalogs of one case compared resource by resource: the base revision's
//! (the target branch's code) against the change's. The gate compiles both in the same
//! Puppet process (`gate.rb` writes each catalog's resources as JSON); this is the
//! comparison, pure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::outcome::diff::{CatalogDiff, Changed, Declared, ParameterChange};
use crate::outcome::CaseId;

/// A resource of a compiled catalog as `gate.rb` writes it (Puppet's own catalog JSON:
/// `to_data_hash`), its file already a host path.
#[derive(Debug, Clone, Deserialize)]
pub struct Resource {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: Value,
    #[serde(default)]
    pub file: Option<PathBuf>,
    #[serde(default)]
    pub line: Option<u32>,
    #[serde(default)]
    pub parameters: BTreeMap<String, Value>,
    /// The parameters whose values were Sensitive (`gate.rb` wrote a digest of each).
    #[serde(default)]
    pub sensitive_parameters: Vec<String>,
}

impl Resource {
    /// `File[/etc/motd]`, as Puppet names it.
    pub fn reference(&self) -> String {
        let title = match &self.title {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        format!("{}[{title}]", self.kind)
    }

    /// Puppet's own scaffolding, in every catalog: not what a module declares.
    fn scaffolding(&self) -> bool {
        matches!(
            (self.kind.as_str(), self.title.as_str()),
            ("Stage", Some("main")) | ("Class", Some("main" | "Settings" | "settings"))
        )
    }
}

/// What the comparison needs to know of the run.
pub struct Context<'a> {
    /// Whether a file is one of the repository's that the change did not touch (a host
    /// path in the working tree).
    pub untouched: &'a dyn Fn(&Path) -> bool,
    /// A host path as the reports show it (relative to the run's directory).
    pub shown: &'a dyn Fn(&Path) -> String,
}

/// The base's catalog (`None`: it did not compile, with its error) against the change's.
pub fn compare(
    id: CaseId,
    base: Result<&[Resource], String>,
    change: &[Resource],
    cx: &Context<'_>,
) -> CatalogDiff {
    let declared = |r: &Resource| Declared {
        resource: r.reference(),
        file: r.file.as_deref().map(cx.shown),
        line: r.line,
    };
    let mut diff = CatalogDiff {
        id,
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
        base_error: None,
    };
    let base = match base {
        Ok(base) => base,
        Err(error) => {
            diff.base_error = Some(error);
            return diff;
        }
    };
    let by_ref = |list: &[Resource]| -> BTreeMap<String, Resource> {
        list.iter()
            .filter(|r| !r.scaffolding())
            .map(|r| (r.reference(), r.clone()))
            .collect()
    };
    let (old, new) = (by_ref(base), by_ref(change));
    // In the change's catalog order (Puppet's evaluation order), then the removed ones.
    for resource in change.iter().filter(|r| !r.scaffolding()) {
        let Some(was) = old.get(&resource.reference()) else {
            diff.added.push(declared(resource));
            continue;
        };
        let mut names: Vec<&String> = was.parameters.keys().collect();
        names.extend(resource.parameters.keys());
        names.sort();
        names.dedup();
        let parameters: Vec<ParameterChange> = names
            .into_iter()
            .filter(|name| was.parameters.get(*name) != resource.parameters.get(*name))
            .map(|name| {
                let sensitive = was.sensitive_parameters.contains(name)
                    || resource.sensitive_parameters.contains(name);
                let value = |r: &Resource| match sensitive {
                    true => None,
                    false => r.parameters.get(name).cloned(),
                };
                ParameterChange {
                    name: name.clone(),
                    old: value(was),
                    new: value(resource),
                    sensitive,
                }
            })
            .collect();
        let moved = was.file != resource.file;
        if parameters.is_empty() && !moved {
            continue;
        }
        let unexpected =
            !parameters.is_empty() && resource.file.as_deref().is_some_and(cx.untouched);
        diff.changed.push(Changed {
            declared: declared(resource),
            moved_from: moved.then(|| declared(was)),
            parameters,
            unexpected,
        });
    }
    for resource in base.iter().filter(|r| !r.scaffolding()) {
        if !new.contains_key(&resource.reference()) {
            diff.removed.push(declared(resource));
        }
    }
    diff
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn resource(kind: &str, title: &str, file: &str, line: u32, params: Value) -> Resource {
        serde_json::from_value(json!({
            "type": kind, "title": title, "file": file, "line": line, "parameters": params,
            "tags": ["ignored"], "exported": false
        }))
        .unwrap()
    }

    fn id() -> CaseId {
        CaseId {
            module: "motd".into(),
            case: "default".into(),
            platform: "debian12".into(),
        }
    }

    fn compared(base: Result<&[Resource], String>, change: &[Resource]) -> CatalogDiff {
        let untouched = |p: &Path| p.starts_with("/m") && !p.ends_with("manifests/init.pp");
        let shown = |p: &Path| p.display().to_string();
        compare(
            id(),
            base,
            change,
            &Context {
                untouched: &untouched,
                shown: &shown,
            },
        )
    }

    #[test]
    fn added_removed_and_changed_resources_with_their_places() {
        let base = [
            resource("Stage", "main", "", 0, json!({})),
            resource("Class", "Motd", "/m/manifests/init.pp", 1, json!({})),
            resource(
                "File",
                "/etc/motd",
                "/m/manifests/init.pp",
                3,
                json!({"mode": "0644", "ensure": "file"}),
            ),
            resource(
                "Package",
                "motd-news",
                "/m/manifests/init.pp",
                7,
                json!({"ensure": "installed"}),
            ),
        ];
        let change = [
            resource("Stage", "main", "", 0, json!({})),
            resource("Class", "Motd", "/m/manifests/init.pp", 1, json!({})),
            resource(
                "File",
                "/etc/motd",
                "/m/manifests/init.pp",
                4,
                json!({"mode": "0600", "ensure": "file", "owner": "root"}),
            ),
            resource(
                "Service",
                "motd",
                "/m/manifests/service.pp",
                2,
                json!({"ensure": "running"}),
            ),
        ];
        let diff = compared(Ok(&base), &change);
        assert_eq!(diff.counts(), "+1 -1 ~1");
        assert_eq!(
            diff.added[0].placed(),
            "Service[motd] (/m/manifests/service.pp:2)"
        );
        assert_eq!(
            diff.removed[0].placed(),
            "Package[motd-news] (/m/manifests/init.pp:7)"
        );
        let changed = &diff.changed[0];
        assert_eq!(
            changed.declared.placed(),
            "File[/etc/motd] (/m/manifests/init.pp:4)"
        );
        let params: Vec<String> = changed.parameters.iter().map(ToString::to_string).collect();
        assert_eq!(params, ["mode: '0644' → '0600'", "owner: (unset) → 'root'"]);
        // A line that moved within a file the change touched is not a move.
        assert_eq!(changed.moved_from, None);
        assert!(!changed.unexpected);
    }

    #[test]
    fn a_resource_moved_to_another_file_is_a_change_of_place_only() {
        let base = [resource(
            "File",
            "/etc/motd",
            "/m/manifests/init.pp",
            3,
            json!({"mode": "0644"}),
        )];
        let change = [resource(
            "File",
            "/etc/motd",
            "/m/manifests/file.pp",
            2,
            json!({"mode": "0644"}),
        )];
        let diff = compared(Ok(&base), &change);
        assert_eq!(diff.counts(), "+0 -0 ~1");
        let moved = diff.changed[0].moved_from.as_ref().unwrap();
        assert_eq!(moved.placed(), "File[/etc/motd] (/m/manifests/init.pp:3)");
        assert!(diff.changed[0].parameters.is_empty());
    }

    #[test]
    fn a_parameter_changed_in_a_file_the_change_did_not_touch_is_unexpected() {
        let base = [resource(
            "File",
            "/etc/ntp.conf",
            "/m/manifests/config.pp",
            3,
            json!({"content": "a"}),
        )];
        let change = [resource(
            "File",
            "/etc/ntp.conf",
            "/m/manifests/config.pp",
            3,
            json!({"content": "b"}),
        )];
        let diff = compared(Ok(&base), &change);
        assert!(diff.changed[0].unexpected);
        let same = compared(Ok(&change), &change);
        assert!(same.is_empty(), "{same:?}");
    }

    /// A Sensitive value is never shown nor kept: that it changed is all a diff says.
    #[test]
    fn a_sensitive_parameter_is_said_to_change_without_its_values() {
        let mut base = resource(
            "User",
            "app",
            "/m/manifests/init.pp",
            3,
            json!({"password": {"sensitive": "aaa"}, "uid": 10}),
        );
        base.sensitive_parameters = vec!["password".into()];
        let mut change = resource(
            "User",
            "app",
            "/m/manifests/init.pp",
            3,
            json!({"password": {"sensitive": "bbb"}, "uid": 10}),
        );
        change.sensitive_parameters = vec!["password".into()];
        let diff = compared(
            Ok(std::slice::from_ref(&base)),
            std::slice::from_ref(&change),
        );
        let param = &diff.changed[0].parameters[0];
        assert_eq!(
            (param.old.as_ref(), param.new.as_ref(), param.sensitive),
            (None, None, true)
        );
        assert_eq!(
            param.to_string(),
            "password: changed (Sensitive: not shown)"
        );
        assert!(!serde_json::to_string(&diff).unwrap().contains("aaa"));
        assert!(compared(
            Ok(std::slice::from_ref(&change)),
            std::slice::from_ref(&change)
        )
        .is_empty());
    }

    /// Code outside the repository (the case's own manifest, a fetched fixture) is not a
    /// file the change left alone.
    #[test]
    fn a_change_declared_outside_the_repository_is_not_unexpected() {
        let base = [resource(
            "Notify",
            "hi",
            "site.pp",
            1,
            json!({"message": "a"}),
        )];
        let change = [resource(
            "Notify",
            "hi",
            "site.pp",
            1,
            json!({"message": "b"}),
        )];
        assert!(!compared(Ok(&base), &change).changed[0].unexpected);
    }

    #[test]
    fn a_base_that_does_not_compile_is_said_not_listed() {
        let change = [resource(
            "File",
            "/etc/motd",
            "/m/manifests/init.pp",
            3,
            json!({}),
        )];
        let diff = compared(Err("Syntax error at '}'".into()), &change);
        assert_eq!(diff.base_error.as_deref(), Some("Syntax error at '}'"));
        assert!(diff.added.is_empty() && !diff.is_empty());
    }
}
