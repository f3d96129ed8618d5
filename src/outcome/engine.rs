//! Which container engine ran a run, on what kind of host: a fact the backend learns when
//! it connects and every report states (a verdict is only as good as the host it was
//! reached on, and "passed on Podman 5, rootless, cgroup v2" is not "passed on Docker 20").

use serde::{Deserialize, Serialize};

/// The engines rehearsal drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    Docker,
    Podman,
    Lxc,
}

impl EngineKind {
    /// Every engine, in the order a run without `--engine` tries them.
    pub const ALL: [EngineKind; 3] = [EngineKind::Docker, EngineKind::Podman, EngineKind::Lxc];

    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Docker => "docker",
            EngineKind::Podman => "podman",
            EngineKind::Lxc => "lxc",
        }
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The engine a run used and the host it ran on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineInfo {
    pub kind: EngineKind,
    /// The engine's own version (`20.10.24`, `4.3.1`, `5.0.2`).
    pub version: String,
    /// The host's cgroup version (1 or 2).
    pub cgroup: u8,
    /// The engine runs as an unprivileged user (rootless Podman).
    #[serde(default)]
    pub rootless: bool,
}

impl EngineInfo {
    /// A fake engine's facts, for tests that need some.
    pub fn test() -> EngineInfo {
        EngineInfo {
            kind: EngineKind::Docker,
            version: "0.0-test".into(),
            cgroup: 2,
            rootless: false,
        }
    }
}

impl std::fmt::Display for EngineInfo {
    /// `docker 20.10.24 (cgroup v1)`, `podman 5.4.2 (rootless, cgroup v2)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} (", self.kind, self.version)?;
        if self.rootless {
            f.write_str("rootless, ")?;
        }
        write!(f, "cgroup v{})", self.cgroup)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_engine_says_what_it_is_and_where_it_runs() {
        let podman = EngineInfo {
            kind: EngineKind::Podman,
            version: "5.4.2".into(),
            cgroup: 2,
            rootless: true,
        };
        assert_eq!(podman.to_string(), "podman 5.4.2 (rootless, cgroup v2)");
        let docker = EngineInfo {
            kind: EngineKind::Docker,
            version: "20.10.24".into(),
            cgroup: 1,
            rootless: false,
        };
        assert_eq!(docker.to_string(), "docker 20.10.24 (cgroup v1)");
        assert_eq!(
            serde_json::to_value(&docker).unwrap(),
            serde_json::json!({"kind": "docker", "version": "20.10.24", "cgroup": 1, "rootless": false})
        );
    }
}
