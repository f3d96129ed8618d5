//! The `expect` checks: what the system should look like after the apply.
//!
//! A check is a YAML map whose first key names its kind and the thing checked
//! (`file: /etc/motd`); the other keys are that kind's attributes, every one optional,
//! plus `retry:` which any check may carry. Unknown kinds and attributes are refused
//! while the spec is read, at their line.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::matcher::{scalar_with, Matcher, Matchers};

/// The kinds a check can be, in the order they are documented.
pub const KINDS: &[&str] = &[
    "file",
    "package",
    "service",
    "user",
    "group",
    "port",
    "process",
    "command",
    "http",
    "mount",
    "kernel_param",
    "interface",
    "resource",
];

/// One expectation of a case: what to assert, and how long to keep trying.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub what: Assertion,
    /// Try again while it fails, for state that comes up asynchronously.
    pub retry: Option<Retry>,
    /// Its line in the spec file (1-based), when it comes from one.
    pub line: Option<usize>,
}

/// What a check asserts, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Assertion {
    File(FileCheck),
    Package(PackageCheck),
    Service(ServiceCheck),
    User(UserCheck),
    Group(GroupCheck),
    Port(PortCheck),
    Process(ProcessCheck),
    Command(CommandCheck),
    Http(HttpCheck),
    Mount(MountCheck),
    KernelParam(KernelParamCheck),
    Interface(InterfaceCheck),
    Resource(ResourceCheck),
}

impl From<Assertion> for Check {
    fn from(what: Assertion) -> Check {
        Check {
            what,
            retry: None,
            line: None,
        }
    }
}

impl Check {
    /// The kind's name, as written in the spec.
    pub fn kind(&self) -> &'static str {
        match &self.what {
            Assertion::File(_) => "file",
            Assertion::Package(_) => "package",
            Assertion::Service(_) => "service",
            Assertion::User(_) => "user",
            Assertion::Group(_) => "group",
            Assertion::Port(_) => "port",
            Assertion::Process(_) => "process",
            Assertion::Command(_) => "command",
            Assertion::Http(_) => "http",
            Assertion::Mount(_) => "mount",
            Assertion::KernelParam(_) => "kernel_param",
            Assertion::Interface(_) => "interface",
            Assertion::Resource(_) => "resource",
        }
    }

    /// The thing checked: a path, a package name, a command line…
    pub fn subject(&self) -> &str {
        match &self.what {
            Assertion::File(c) => &c.path,
            Assertion::Package(c) => &c.name,
            Assertion::Service(c) => &c.name,
            Assertion::User(c) => &c.name,
            Assertion::Group(c) => &c.name,
            Assertion::Port(c) => &c.subject,
            Assertion::Process(c) => &c.name,
            Assertion::Command(c) => &c.command,
            Assertion::Http(c) => &c.url,
            Assertion::Mount(c) => &c.path,
            Assertion::KernelParam(c) => &c.name,
            Assertion::Interface(c) => &c.name,
            Assertion::Resource(c) => &c.reference,
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.subject())
    }
}

/// `retry: { timeout: 30s, interval: 1s }`: while the check fails, run it again every
/// `interval` until `timeout` has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    #[serde(default = "Retry::default_interval", with = "humantime_serde")]
    pub interval: Duration,
}

impl Retry {
    fn default_interval() -> Duration {
        Duration::from_secs(1)
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

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortAttrs {
    pub listening: Option<bool>,
    pub protocol: Option<Protocol>,
    /// Every entry must match an address the port is bound to (`0.0.0.0`, `::`, `/^127\./`).
    #[serde(default)]
    pub address: Matchers,
}

/// `port: 8080`, `port: "udp:53"` (goss's spelling) or `port: 53` with `protocol: udp`.
#[derive(Debug, Clone, PartialEq)]
pub struct PortCheck {
    /// As written in the spec.
    pub subject: String,
    pub number: u16,
    /// From the subject's `tcp:`/`udp:` prefix or `protocol:`; TCP when neither says.
    pub protocol: Protocol,
    pub attrs: PortAttrs,
}

impl PortCheck {
    /// Reads `8080`, `tcp:8080`, `udp:53` (and goss's `tcp6:`/`udp6:`).
    pub fn parse_subject(text: &str) -> Result<(Option<Protocol>, u16), String> {
        let (proto, number) = match text.split_once(':') {
            Some((p, n)) => {
                let proto = match p.to_ascii_lowercase().as_str() {
                    "tcp" | "tcp6" => Protocol::Tcp,
                    "udp" | "udp6" => Protocol::Udp,
                    _ => {
                        return Err(format!(
                        "invalid port `{text}`: the prefix must be tcp: or udp:, like \"udp:53\""
                    ))
                    }
                };
                (Some(proto), n)
            }
            None => (None, text),
        };
        match number.trim().parse::<u16>() {
            Ok(n) if n > 0 => Ok((proto, n)),
            _ => Err(format!(
                "invalid port `{text}`: write a number from 1 to 65535, like 8080 or \"udp:53\""
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessAttrs {
    pub running: Option<bool>,
}

/// A process by command name (as `ps -C` sees it, or the program's base name).
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessCheck {
    pub name: String,
    pub attrs: ProcessAttrs,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpAttrs {
    /// The expected status code (default 200).
    pub status: Option<u16>,
    /// Every entry must be found in the body.
    #[serde(default)]
    pub body: Matchers,
    /// Every entry must be found among the response's header lines (`Name: value`).
    #[serde(default)]
    pub headers: Matchers,
    #[serde(default, with = "humantime_serde_opt")]
    pub timeout: Option<Duration>,
    /// Accept any TLS certificate (default false).
    pub allow_insecure: Option<bool>,
    /// Follow redirects (default false, so a redirect's own status can be checked).
    pub follow_redirects: Option<bool>,
}

/// A URL requested from inside the container.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpCheck {
    pub url: String,
    pub attrs: HttpAttrs,
}

impl HttpCheck {
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    pub fn timeout(&self) -> Duration {
        self.attrs.timeout.unwrap_or(Self::DEFAULT_TIMEOUT)
    }

    pub fn status(&self) -> u16 {
        self.attrs.status.unwrap_or(200)
    }

    fn check_url(text: &str) -> Result<(), String> {
        let lower = text.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) || text.len() < 10 {
            return Err(format!(
                "invalid url `{text}`: write a full http:// or https:// URL, like \"http://localhost:8080/health\""
            ));
        }
        if text.chars().any(char::is_whitespace) {
            return Err(format!(
                "invalid url `{text}`: a URL has no spaces (write %20)"
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountAttrs {
    pub exists: Option<bool>,
    /// Every entry must be one of the mount's options (`rw`, `nosuid`, `/^size=/`).
    #[serde(default)]
    pub opts: Matchers,
    pub source: Option<Matcher>,
    pub filesystem: Option<Matcher>,
}

/// A mount point, as the container's /proc/mounts lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct MountCheck {
    pub path: String,
    pub attrs: MountAttrs,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelParamAttrs {
    pub value: Option<Matcher>,
}

/// A sysctl, by its dotted name (`net.ipv4.ip_forward`), read from /proc/sys.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelParamCheck {
    pub name: String,
    pub attrs: KernelParamAttrs,
}

impl KernelParamCheck {
    fn check_name(text: &str) -> Result<(), String> {
        let ok = text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
            && !text
                .split(['.', '/'])
                .any(|part| part.is_empty() || part == "..");
        if ok {
            Ok(())
        } else {
            Err(format!(
                "invalid kernel parameter `{text}`: write its sysctl name, like net.ipv4.ip_forward"
            ))
        }
    }

    /// Where it is read: `net.ipv4.ip_forward` → `/proc/sys/net/ipv4/ip_forward`.
    pub fn proc_path(&self) -> String {
        let rel = if self.name.contains('/') {
            self.name.clone()
        } else {
            self.name.replace('.', "/")
        };
        format!("/proc/sys/{rel}")
    }
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceAttrs {
    pub exists: Option<bool>,
    /// Every entry must be one of the interface's addresses, in CIDR form (`10.0.0.2/24`).
    #[serde(default)]
    pub addrs: Matchers,
    pub mtu: Option<u32>,
}

/// A network interface inside the container.
#[derive(Debug, Clone, PartialEq)]
pub struct InterfaceCheck {
    pub name: String,
    pub attrs: InterfaceAttrs,
}

impl InterfaceCheck {
    fn check_name(text: &str) -> Result<(), String> {
        if text.len() <= 15
            && text != "."
            && text != ".."
            && !text.contains(['/', ' ', '\t', '\n', ':'])
        {
            Ok(())
        } else {
            Err(format!(
                "invalid interface `{text}`: an interface name has at most 15 characters and no / : or spaces"
            ))
        }
    }
}

/// A Puppet resource as `puppet resource` sees it: `resource: "Service[cron]"` with any
/// of the type's attributes (`ensure: running`, `enable: true`).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceCheck {
    /// As written: `Service[cron]`.
    pub reference: String,
    /// The type, lower case: `service`.
    pub type_name: String,
    pub title: String,
    pub attrs: BTreeMap<String, Matchers>,
}

impl ResourceCheck {
    pub fn parse_reference(text: &str) -> Result<(String, String), String> {
        let bad = || {
            format!("invalid resource `{text}`: write a Puppet resource reference, like \"Service[cron]\"")
        };
        let (type_name, rest) = text.split_once('[').ok_or_else(bad)?;
        let title = rest.strip_suffix(']').ok_or_else(bad)?;
        let type_ok = !type_name.is_empty()
            && type_name
                .split("::")
                .all(|p| p.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
            && type_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        let title = title.trim_matches(|c| c == '\'' || c == '"');
        if !type_ok || title.is_empty() {
            return Err(bad());
        }
        Ok((type_name.to_ascii_lowercase(), title.to_string()))
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
pub mod humantime_serde {
    use std::time::Duration;

    use serde::Deserializer;

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
        crate::spec::matcher::scalar_with(de, |text| parse(&text))
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

/// An optional duration, as [`humantime_serde`] reads it.
pub mod humantime_serde_opt {
    use std::time::Duration;

    use serde::Deserializer;

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Duration>, D::Error> {
        super::humantime_serde::deserialize(de).map(Some)
    }
}

/// The first key of a check: its kind. Unknown names are refused with the list of kinds.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum KindName {
    File,
    Package,
    Service,
    User,
    Group,
    Port,
    Process,
    Command,
    Http,
    Mount,
    KernelParam,
    Interface,
    Resource,
}

impl KindName {
    /// What the subject must look like, checked where it stands.
    fn subject_rule(&self) -> fn(&str) -> Result<(), String> {
        match self {
            KindName::Port => |t| PortCheck::parse_subject(t).map(drop),
            KindName::Http => HttpCheck::check_url,
            KindName::KernelParam => KernelParamCheck::check_name,
            KindName::Interface => InterfaceCheck::check_name,
            KindName::Resource => |t| ResourceCheck::parse_reference(t).map(drop),
            _ => |_| Ok(()),
        }
    }
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
                let Some(kind) = map.next_key::<KindName>()? else {
                    return Err(de::Error::custom(
                        "empty check: start it with its kind, like `file: /etc/motd`",
                    ));
                };
                let subject: String = map.next_value_seed(Subject(kind.subject_rule()))?;
                let mut retry = None;
                let rest = MapAccessDeserializer::new(TakeRetry {
                    inner: map,
                    retry: &mut retry,
                });
                let what = assertion(kind, subject, rest)?;
                Ok(Check {
                    what,
                    retry,
                    line: None,
                })
            }
        }
        de.deserialize_map(CheckVisitor)
    }
}

/// Reads the attributes of a check of this kind.
fn assertion<'de, D: Deserializer<'de>>(
    kind: KindName,
    subject: String,
    rest: D,
) -> Result<Assertion, D::Error> {
    let attrs = match kind {
        KindName::File => Attributes::File(FileAttrs::deserialize(rest)?),
        KindName::Package => Attributes::Package(PackageAttrs::deserialize(rest)?),
        KindName::Service => Attributes::Service(ServiceAttrs::deserialize(rest)?),
        KindName::User => Attributes::User(UserAttrs::deserialize(rest)?),
        KindName::Group => Attributes::Group(GroupAttrs::deserialize(rest)?),
        KindName::Port => Attributes::Port(PortAttrs::deserialize(rest)?),
        KindName::Process => Attributes::Process(ProcessAttrs::deserialize(rest)?),
        KindName::Command => Attributes::Command(CommandAttrs::deserialize(rest)?),
        KindName::Http => Attributes::Http(HttpAttrs::deserialize(rest)?),
        KindName::Mount => Attributes::Mount(MountAttrs::deserialize(rest)?),
        KindName::KernelParam => Attributes::KernelParam(KernelParamAttrs::deserialize(rest)?),
        KindName::Interface => Attributes::Interface(InterfaceAttrs::deserialize(rest)?),
        KindName::Resource => Attributes::Resource(BTreeMap::deserialize(rest)?),
    };
    attrs.with_subject(subject).map_err(de::Error::custom)
}

/// A check's attributes, by kind, before its subject joins them: what the spec's own
/// checks and a goss file's entries are both read into.
#[derive(Debug, Clone, PartialEq)]
pub enum Attributes {
    File(FileAttrs),
    Package(PackageAttrs),
    Service(ServiceAttrs),
    User(UserAttrs),
    Group(GroupAttrs),
    Port(PortAttrs),
    Process(ProcessAttrs),
    Command(CommandAttrs),
    Http(HttpAttrs),
    Mount(MountAttrs),
    KernelParam(KernelParamAttrs),
    Interface(InterfaceAttrs),
    Resource(BTreeMap<String, Matchers>),
}

impl Attributes {
    /// The assertion about `subject`. Subjects that carry meaning (a port and its
    /// protocol, a resource reference) are read here; a port whose `tcp:`/`udp:` prefix
    /// and `protocol:` disagree is an error.
    pub fn with_subject(self, subject: String) -> Result<Assertion, String> {
        Ok(match self {
            Attributes::File(attrs) => Assertion::File(FileCheck {
                path: subject,
                attrs,
            }),
            Attributes::Package(attrs) => Assertion::Package(PackageCheck {
                name: subject,
                attrs,
            }),
            Attributes::Service(attrs) => Assertion::Service(ServiceCheck {
                name: subject,
                attrs,
            }),
            Attributes::User(attrs) => Assertion::User(UserCheck {
                name: subject,
                attrs,
            }),
            Attributes::Group(attrs) => Assertion::Group(GroupCheck {
                name: subject,
                attrs,
            }),
            Attributes::Port(attrs) => {
                let (prefix, number) = PortCheck::parse_subject(&subject)?;
                let protocol = match (prefix, attrs.protocol) {
                    (Some(a), Some(b)) if a != b => {
                        return Err(format!(
                            "port `{subject}` says {} but `protocol:` says {}: keep one",
                            a.as_str(),
                            b.as_str()
                        ))
                    }
                    (p, q) => p.or(q).unwrap_or(Protocol::Tcp),
                };
                Assertion::Port(PortCheck {
                    subject,
                    number,
                    protocol,
                    attrs,
                })
            }
            Attributes::Process(attrs) => Assertion::Process(ProcessCheck {
                name: subject,
                attrs,
            }),
            Attributes::Command(attrs) => Assertion::Command(CommandCheck {
                command: subject,
                attrs,
            }),
            Attributes::Http(attrs) => Assertion::Http(HttpCheck {
                url: subject,
                attrs,
            }),
            Attributes::Mount(attrs) => Assertion::Mount(MountCheck {
                path: subject,
                attrs,
            }),
            Attributes::KernelParam(attrs) => Assertion::KernelParam(KernelParamCheck {
                name: subject,
                attrs,
            }),
            Attributes::Interface(attrs) => Assertion::Interface(InterfaceCheck {
                name: subject,
                attrs,
            }),
            Attributes::Resource(attrs) => {
                let (type_name, title) = ResourceCheck::parse_reference(&subject)?;
                Assertion::Resource(ResourceCheck {
                    reference: subject,
                    type_name,
                    title,
                    attrs,
                })
            }
        })
    }
}

/// The thing a check is about: a non-empty scalar that follows its kind's rule.
struct Subject(fn(&str) -> Result<(), String>);

impl<'de> DeserializeSeed<'de> for Subject {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<String, D::Error> {
        scalar_with(de, |text| {
            if text.trim().is_empty() {
                return Err("empty value: say what is checked, like `file: /etc/motd`".to_string());
            }
            (self.0)(&text)?;
            Ok(text)
        })
    }
}

/// The rest of a check's map with `retry:` taken out, so each kind's attributes stay
/// strict (unknown keys refused) while every kind accepts `retry`. Keys are read where
/// they stand, so an error still names the key's line.
struct TakeRetry<'r, A> {
    inner: A,
    retry: &'r mut Option<Retry>,
}

/// A key of the rest of a check: `retry` (handing the caller's seed back) or another.
enum Key<K, V> {
    Retry(K),
    Other(V),
}

struct KeyOrRetry<K>(K);

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeyOrRetry<K> {
    type Value = Key<K, K::Value>;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de, K: DeserializeSeed<'de>> Visitor<'de> for KeyOrRetry<K> {
    type Value = Key<K, K::Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v == "retry" {
            return Ok(Key::Retry(self.0));
        }
        self.0.deserialize(v.into_deserializer()).map(Key::Other)
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for TakeRetry<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let mut seed = seed;
        loop {
            match self.inner.next_key_seed(KeyOrRetry(seed))? {
                None => return Ok(None),
                Some(Key::Other(value)) => return Ok(Some(value)),
                Some(Key::Retry(back)) => {
                    *self.retry = Some(self.inner.next_value()?);
                    seed = back;
                }
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(seed)
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
        let Assertion::File(f) = c.what else { panic!() };
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
        let Assertion::Command(c) = check("command: id -u\nexit_status: 0\nstdout: 0\ntimeout: 5s")
            .unwrap()
            .what
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

    #[test]
    fn ports_in_every_spelling() {
        let port = |yaml: &str| match check(yaml).map(|c| c.what) {
            Ok(Assertion::Port(p)) => Ok((p.number, p.protocol)),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e),
        };
        assert_eq!(port("port: 8080"), Ok((8080, Protocol::Tcp)));
        assert_eq!(port("port: udp:53"), Ok((53, Protocol::Udp)));
        assert_eq!(port("port: 53\nprotocol: udp"), Ok((53, Protocol::Udp)));
        assert!(port("port: 0").unwrap_err().contains("from 1 to 65535"));
        assert!(port("port: 70000").unwrap_err().contains("line 1 column 7"));
        assert!(port("port: sctp:9").unwrap_err().contains("tcp: or udp:"));
        assert!(port("port: tcp:53\nprotocol: udp")
            .unwrap_err()
            .contains("keep one"));
    }

    #[test]
    fn subjects_are_checked_where_they_stand() {
        let err = check("http: localhost:8080").unwrap_err();
        assert!(err.contains("invalid url `localhost:8080`"), "{err}");
        assert!(err.contains("line 1 column 7"), "{err}");
        assert!(check("kernel_param: net/../../etc")
            .unwrap_err()
            .contains("invalid kernel parameter"));
        assert!(check("interface: eth0/../x")
            .unwrap_err()
            .contains("invalid interface"));
        assert!(check("resource: cron")
            .unwrap_err()
            .contains("like \"Service[cron]\""));
        assert_eq!(
            ResourceCheck::parse_reference("Apt::Source['main']"),
            Ok(("apt::source".to_string(), "main".to_string()))
        );
    }

    #[test]
    fn resource_attributes_are_free_but_typed_as_matchers() {
        let Assertion::Resource(r) =
            check("resource: Service[cron]\nensure: running\nenable: true\nretry: {timeout: 5s}")
                .unwrap()
                .what
        else {
            panic!()
        };
        assert_eq!(r.type_name, "service");
        assert_eq!(r.title, "cron");
        assert_eq!(r.attrs.len(), 2, "retry is not an attribute");
        assert!(r.attrs["enable"].0[0].matches_value("true"));
    }

    #[test]
    fn any_kind_takes_retry_and_its_errors_are_located() {
        let c = check("service: nginx\nretry: { timeout: 30s }\nrunning: true").unwrap();
        assert_eq!(
            c.retry,
            Some(Retry {
                timeout: Duration::from_secs(30),
                interval: Duration::from_secs(1)
            })
        );
        let err = check("port: 80\nretry:\n  timeout: 3s\n  intervl: 1s").unwrap_err();
        assert!(err.contains("unknown field `intervl`"), "{err}");
        assert!(err.contains("line 4"), "{err}");
        let err = check("port: 80\nretry: { interval: 1s }").unwrap_err();
        assert!(err.contains("missing field `timeout`"), "{err}");
        let err = check("process: x\nrunning: true\nrunnin: false").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn every_kind_is_documented_in_kinds() {
        for kind in KINDS {
            let err = check(&format!("{kind}: x\nno_such_attribute: 1")).unwrap_err();
            assert!(!err.contains("unknown variant"), "{kind}: {err}");
        }
    }
}
