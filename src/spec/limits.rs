//! What a case's container may use: memory, CPU, processes, and its network.
//!
//! A spec (and a case in it) and a platform's `platform.yaml` may each set any of the
//! limits; the case's value wins over the spec's, the spec's over the platform's, and the
//! platform's over the defaults in [`Limits::DEFAULT`].

use std::fmt;

use serde::de::Deserializer;
use serde::Deserialize;

/// Limits as written: any of them may be left out.
#[derive(Debug, Default, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsOverride {
    /// Memory in bytes (`512M`, `1G`, `1073741824`); swap is never added to it.
    pub memory: Option<Bytes>,
    /// CPUs, possibly a fraction (`0.5`).
    pub cpus: Option<Cpus>,
    /// Processes (and threads) at once.
    pub pids: Option<Pids>,
}

impl LimitsOverride {
    /// These values where they are set, else `base`'s.
    pub fn over(self, base: LimitsOverride) -> LimitsOverride {
        LimitsOverride {
            memory: self.memory.or(base.memory),
            cpus: self.cpus.or(base.cpus),
            pids: self.pids.or(base.pids),
        }
    }

    /// The limits a container gets: these values, else the defaults.
    pub fn resolve(self) -> Limits {
        Limits {
            memory: self.memory.map_or(Limits::DEFAULT.memory, |b| b.0),
            nano_cpus: self.cpus.map_or(Limits::DEFAULT.nano_cpus, |c| c.0),
            pids: self.pids.map_or(Limits::DEFAULT.pids, |p| p.0),
        }
    }
}

/// The limits of one container, every value resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of memory; memory plus swap is the same, so there is no swap.
    pub memory: u64,
    /// CPUs in billionths (Docker's `NanoCpus`): 1 000 000 000 is one CPU.
    pub nano_cpus: u64,
    /// Processes and threads at once.
    pub pids: u64,
}

impl Limits {
    /// 1 GiB, one CPU, 1024 processes: systemd, Puppet and a typical service fit with
    /// room to spare, and no case can take a shared host's memory or cores (see README).
    pub const DEFAULT: Limits = Limits {
        memory: 1024 * MIB,
        nano_cpus: 1_000_000_000,
        pids: 1024,
    };
}

const MIB: u64 = 1024 * 1024;
/// Below this systemd and Puppet cannot run at all.
const MIN_MEMORY: u64 = 16 * MIB;
/// systemd alone starts about twenty.
const MIN_PIDS: u64 = 32;

/// A size in bytes, written as a number of bytes or with a binary suffix, as Docker
/// reads them: `512M`, `1G`, `1.5GiB`, `64m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes(pub u64);

impl Bytes {
    pub fn parse(text: &str) -> Result<Bytes, String> {
        let bad = || {
            format!("`{text}` is not a size: write bytes with a unit, like `512M` or `1G` (K, M, G, T; binary)")
        };
        let trimmed = text.trim();
        let split = trimmed
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(split);
        let number: f64 = number.parse().map_err(|_| bad())?;
        let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" | "ki" | "kib" => 1024,
            "m" | "mb" | "mi" | "mib" => MIB,
            "g" | "gb" | "gi" | "gib" => 1024 * MIB,
            "t" | "tb" | "ti" | "tib" => 1024 * 1024 * MIB,
            _ => return Err(bad()),
        };
        let bytes = number * scale as f64;
        if !bytes.is_finite() || bytes >= u64::MAX as f64 {
            return Err(bad());
        }
        Ok(Bytes(bytes as u64))
    }
}

impl fmt::Display for Bytes {
    /// The largest unit that divides the size: `512M`, `1G`, `1536K`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, scale) in [
            ("T", 1024 * 1024 * MIB),
            ("G", 1024 * MIB),
            ("M", MIB),
            ("K", 1024),
        ] {
            if self.0 >= scale && self.0.is_multiple_of(scale) {
                return write!(f, "{}{unit}", self.0 / scale);
            }
        }
        write!(f, "{} bytes", self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        super::matcher::scalar_with(de, |text| {
            let bytes = Bytes::parse(&text)?;
            if bytes.0 < MIN_MEMORY {
                return Err(format!(
                    "memory `{text}` is too small: systemd and Puppet need at least 16M (256M or more is realistic)"
                ));
            }
            Ok(bytes)
        })
    }
}

/// CPUs as billionths of one, from `1`, `0.5` or `"1.5"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cpus(pub u64);

impl<'de> Deserialize<'de> for Cpus {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        super::matcher::scalar_with(de, |text| {
            let cpus: f64 = text.trim().parse().map_err(|_| {
                format!("`{text}` is not a number of CPUs: write one like `1` or `0.5`")
            })?;
            if !(0.01..=1024.0).contains(&cpus) {
                return Err(format!(
                    "{text} CPUs is out of range: give at least 0.01 (a hundredth of a core)"
                ));
            }
            Ok(Cpus((cpus * 1e9).round() as u64))
        })
    }
}

/// A number of processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pids(pub u64);

impl<'de> Deserialize<'de> for Pids {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        super::matcher::scalar_with(de, |text| {
            let pids: u64 = text.trim().parse().map_err(|_| {
                format!("`{text}` is not a number of processes: write a whole number like `256`")
            })?;
            if pids < MIN_PIDS {
                return Err(format!(
                    "pids {pids} is too few: systemd alone starts about twenty; give at least {MIN_PIDS}"
                ));
            }
            Ok(Pids(pids))
        })
    }
}

/// The network a case's container is on.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// The engine's default bridge: the container can reach the outside (package installs).
    #[default]
    Default,
    /// No network at all, only loopback.
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_yaml(text: &str) -> Result<LimitsOverride, String> {
        serde_yaml::from_str(text).map_err(|err| err.to_string())
    }

    #[test]
    fn sizes_read_as_docker_reads_them() {
        assert_eq!(Bytes::parse("512M").unwrap().0, 512 * MIB);
        assert_eq!(Bytes::parse("512m").unwrap().0, 512 * MIB);
        assert_eq!(Bytes::parse("1G").unwrap().0, 1024 * MIB);
        assert_eq!(Bytes::parse("1.5GiB").unwrap().0, 1536 * MIB);
        assert_eq!(Bytes::parse("1048576").unwrap().0, MIB);
        assert_eq!(Bytes::parse("64 MB").unwrap().0, 64 * MIB);
        for bad in ["", "M", "12Q", "-1G", "1e3", "ten", "1.2.3M"] {
            assert!(Bytes::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(Bytes(512 * MIB).to_string(), "512M");
        assert_eq!(Bytes(1024 * MIB).to_string(), "1G");
        assert_eq!(Bytes(1000).to_string(), "1000 bytes");
    }

    #[test]
    fn limits_read_from_yaml_and_fall_back_in_order() {
        let spec = from_yaml("{memory: 512M, cpus: 0.5}").unwrap();
        let platform = from_yaml("{memory: 2G, pids: 4096}").unwrap();
        let case = from_yaml("{cpus: \"1.5\"}").unwrap();
        let limits = case.over(spec).over(platform).resolve();
        assert_eq!(
            limits,
            Limits {
                memory: 512 * MIB,
                nano_cpus: 1_500_000_000,
                pids: 4096
            }
        );
        assert_eq!(LimitsOverride::default().resolve(), Limits::DEFAULT);
    }

    #[test]
    fn bad_limits_say_what_to_write() {
        let err = from_yaml("memory: lots").unwrap_err();
        assert!(err.contains("`lots` is not a size"), "{err}");
        assert!(err.contains("line 1 column 9"), "{err}");
        let err = from_yaml("memory: 1M").unwrap_err();
        assert!(err.contains("too small"), "{err}");
        let err = from_yaml("cpus: 0").unwrap_err();
        assert!(err.contains("out of range"), "{err}");
        let err = from_yaml("pids: 4").unwrap_err();
        assert!(err.contains("give at least 32"), "{err}");
        let err = from_yaml("pids: many").unwrap_err();
        assert!(err.contains("whole number"), "{err}");
        let err = from_yaml("swap: 1G").unwrap_err();
        assert!(err.contains("unknown field `swap`"), "{err}");
    }

    #[test]
    fn networks_are_none_or_default() {
        let read = |t: &str| serde_yaml::from_str::<Network>(t).map_err(|e| e.to_string());
        assert_eq!(read("none").unwrap(), Network::None);
        assert_eq!(read("default").unwrap(), Network::Default);
        let err = read("host").unwrap_err();
        assert!(err.contains("expected `default` or `none`"), "{err}");
    }
}
