//! The `expect` checks: what the system should look like after the apply.
//!
//! A check is a YAML map whose first key names its kind and the thing checked
//! (`file: /etc/motd`); the other keys are that kind's attributes, every one optional.
//! Unknown kinds and attributes are refused while the spec is read, at their line.

use std::fmt;
use std::time::Duration;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::matcher::{scalar_with, Matcher, Matchers};

/// The kinds a check can be, in the order they are documented.
pub const KINDS: &[&str] = &["file", "package", "service", "user", "group", "command"];

/// One expectation of a case.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    File(FileCheck),
    Package(PackageCheck),
    Service(ServiceCheck),
    User(UserCheck),
    Group(GroupCheck),
    Command(CommandCheck),
}

impl Check {
    /// The kind's name, as written in the spec.
    pub fn kind(&self) -> &'static str {
        match self {
            Check::File(_) => "file",
            Check::Package(_) => "package",
            Check::Service(_) => "service",
            Check::User(_) => "user",
            Check::Group(_) => "group",
            Check::Command(_) => "command",
        }
    }

    /// The thing checked: a path, a package name, a command line…
    pub fn subject(&self) -> &str {
        match self {
            Check::File(c) => &c.path,
            Check::Package(c) => &c.name,
            Check::Service(c) => &c.name,
            Check::User(c) => &c.name,
            Check::Group(c) => &c.name,
            Check::Command(c) => &c.command,
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.subject())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileType {
    File,
    Directory,
    Symlink,
}

impl FileType {
    pub fn as_str(self) -> &'static str {
        match self {
            FileType::File => "file",
            FileType::Directory => "directory",
            FileType::Symlink => "symlink",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAttrs {
    pub exists: Option<bool>,
    #[serde(rename = "type")]
    pub file_type: Option<FileType>,
    pub mode: Option<Mode>,
    pub owner: Option<Matcher>,
    pub group: Option<Matcher>,
    #[serde(default)]
    pub contains: Matchers,
    pub sha256: Option<Matcher>,
    pub linked_to: Option<Matcher>,
    pub size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FileCheck {
    pub path: String,
    pub attrs: FileAttrs,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageAttrs {
    pub installed: Option<bool>,
    pub version: Option<Matcher>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PackageCheck {
    pub name: String,
    pub attrs: PackageAttrs,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAttrs {
    pub running: Option<bool>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceCheck {
    pub name: String,
    pub attrs: ServiceAttrs,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserAttrs {
    pub exists: Option<bool>,
    pub uid: Option<Matcher>,
    pub gid: Option<Matcher>,
    #[serde(default)]
    pub groups: Vec<String>,
    pub home: Option<Matcher>,
    pub shell: Option<Matcher>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserCheck {
    pub name: String,
    pub attrs: UserAttrs,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupAttrs {
    pub exists: Option<bool>,
    pub gid: Option<Matcher>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupCheck {
    pub name: String,
    pub attrs: GroupAttrs,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandAttrs {
    pub exit_status: Option<i64>,
    #[serde(default)]
    pub stdout: Matchers,
    #[serde(default)]
    pub stderr: Matchers,
    #[serde(default, with = "humantime_serde_opt")]
    pub timeout: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CommandCheck {
    pub command: String,
    pub attrs: CommandAttrs,
}

impl CommandCheck {
    /// Default time a command check may run.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

    pub fn timeout(&self) -> Duration {
        self.attrs.timeout.unwrap_or(Self::DEFAULT_TIMEOUT)
    }
}

/// A file mode, kept as four octal digits ("0644"); `644`, `"644"` and `"0644"` are equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mode(pub String);

impl Mode {
    pub fn parse(text: &str) -> Result<Mode, String> {
        let digits = text.trim();
        let digits = digits.strip_prefix("0o").unwrap_or(digits);
        if digits.is_empty()
            || digits.len() > 4
            || !digits.chars().all(|c| ('0'..='7').contains(&c))
        {
            return Err(format!(
                "invalid mode `{text}`: write it as octal digits, like \"0644\""
            ));
        }
        Ok(Mode(format!("{digits:0>4}")))
    }
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        scalar_with(de, |text| Mode::parse(&text))
    }
}

/// `30s`, `2m`, `1h 30m`: durations as people write them.
pub mod humantime_serde_opt {
    use std::time::Duration;

    use serde::Deserializer;

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Duration>, D::Error> {
        crate::spec::matcher::scalar_with(de, |text| parse(&text).map(Some))
    }

    pub fn parse(text: &str) -> Result<Duration, String> {
        match humantime::parse_duration(text) {
            Ok(d) if d.is_zero() => Err(format!(
                "invalid duration `{text}`: it must be more than zero"
            )),
            Ok(d) => Ok(d),
            Err(_) => Err(format!(
                "invalid duration `{text}`: write a number and a unit, like \"30s\" or \"5m\""
            )),
        }
    }
}

/// The first key of a check: its kind. Unknown names are refused with the list of kinds.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    File,
    Package,
    Service,
    User,
    Group,
    Command,
}

impl<'de> Deserialize<'de> for Check {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct CheckVisitor;
        impl<'de> Visitor<'de> for CheckVisitor {
            type Value = Check;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a check: a map whose first key names its kind, like `file: /etc/motd`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Check, A::Error> {
                let Some(kind) = map.next_key::<Kind>()? else {
                    return Err(de::Error::custom(
                        "empty check: start it with its kind, like `file: /etc/motd`",
                    ));
                };
                let subject: String = map.next_value_seed(Subject)?;
                let rest = MapAccessDeserializer::new(map);
                Ok(match kind {
                    Kind::File => Check::File(FileCheck {
                        path: subject,
                        attrs: FileAttrs::deserialize(rest)?,
                    }),
                    Kind::Package => Check::Package(PackageCheck {
                        name: subject,
                        attrs: PackageAttrs::deserialize(rest)?,
                    }),
                    Kind::Service => Check::Service(ServiceCheck {
                        name: subject,
                        attrs: ServiceAttrs::deserialize(rest)?,
                    }),
                    Kind::User => Check::User(UserCheck {
                        name: subject,
                        attrs: UserAttrs::deserialize(rest)?,
                    }),
                    Kind::Group => Check::Group(GroupCheck {
                        name: subject,
                        attrs: GroupAttrs::deserialize(rest)?,
                    }),
                    Kind::Command => Check::Command(CommandCheck {
                        command: subject,
                        attrs: CommandAttrs::deserialize(rest)?,
                    }),
                })
            }
        }
        de.deserialize_map(CheckVisitor)
    }
}

/// The thing a check is about: a non-empty scalar.
struct Subject;

impl<'de> de::DeserializeSeed<'de> for Subject {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<String, D::Error> {
        scalar_with(de, |text| {
            if text.trim().is_empty() {
                return Err("empty value: say what is checked, like `file: /etc/motd`".to_string());
            }
            Ok(text)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(yaml: &str) -> Result<Check, String> {
        serde_yaml::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn file_check_with_attributes() {
        let c =
            check("file: /etc/motd\nmode: 644\nowner: root\ncontains: [hello, '/wor.d/']").unwrap();
        let Check::File(f) = c else { panic!() };
        assert_eq!(f.path, "/etc/motd");
        assert_eq!(f.attrs.mode, Some(Mode("0644".into())));
        assert_eq!(f.attrs.contains.0.len(), 2);
    }

    #[test]
    fn modes_normalise() {
        assert_eq!(Mode::parse("0644").unwrap(), Mode::parse("644").unwrap());
        assert_eq!(Mode::parse("4755").unwrap().0, "4755");
        assert!(Mode::parse("0944").is_err());
        assert!(Mode::parse("rw-r--r--").is_err());
    }

    #[test]
    fn unknown_attribute_is_refused_at_its_line() {
        let err = check("file: /etc/motd\nmdoe: '0644'").unwrap_err();
        assert!(err.contains("unknown field `mdoe`"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn unknown_kind_lists_the_kinds() {
        let err = check("fiel: /etc/motd").unwrap_err();
        assert!(err.contains("unknown variant `fiel`"), "{err}");
        assert!(err.contains("`file`"), "{err}");
    }

    #[test]
    fn command_check_with_timeout_and_numbers() {
        let Check::Command(c) =
            check("command: id -u\nexit_status: 0\nstdout: 0\ntimeout: 5s").unwrap()
        else {
            panic!()
        };
        assert_eq!(c.timeout(), Duration::from_secs(5));
        assert!(c.attrs.stdout.0[0].matches_value("0\n"));
        assert!(check("command: x\ntimeout: soon")
            .unwrap_err()
            .contains("invalid duration"));
    }

    #[test]
    fn empty_subject_is_refused() {
        assert!(check("user: ''").unwrap_err().contains("empty value"));
        assert!(check("{}").unwrap_err().contains("empty check"));
    }

    #[test]
    fn display_names_kind_and_subject() {
        assert_eq!(
            check("service: cron\nrunning: true").unwrap().to_string(),
            "service cron"
        );
    }
}
