//! Why a case's container stopped doing its work, when the cause lies outside the case's
//! code: the container was killed or removed from outside, ran out of memory or
//! processes, or the engine went away. Asked once, about the first step that did not pass,
//! so the report says what happened to the container instead of only "timed out".

use std::time::Duration;

use chrono::Utc;

use super::Context;
use crate::backend::exec::{exec_within, ExecError};
use crate::backend::{Backend, BackendError, ContainerConfig, EngineKind};

/// Why a case's container stopped doing its work, when the cause lies outside the
/// case's code: the container was killed or removed, ran out of memory or processes, or
/// the engine went away. `None` when nothing of the kind happened.
pub async fn fault<B: Backend>(
    ctx: &Context<B>,
    container: &str,
    since: chrono::DateTime<Utc>,
    config: &ContainerConfig,
) -> Option<String> {
    let fate = |pause: Duration| async move {
        tokio::time::sleep(pause).await;
        ctx.backend.fate(container, since).await
    };
    let mut found = fate(Duration::ZERO).await;
    // Refused forks, counted by the kernel; the exec also tells a container that is
    // stopping but not yet marked stopped by the engine, which is then asked again.
    let mut refused_forks = false;
    let mut oom_killed = false;
    if let Ok(Some(f)) = &found {
        if f.running {
            let counters = ["sh", "-c", COUNTERS];
            let limit = Duration::from_secs(10);
            match exec_within(&*ctx.backend, container, &counters, limit, None).await {
                Ok(out) => {
                    let text = String::from_utf8_lossy(&out.stdout);
                    let counter = |name: &str| {
                        text.lines()
                            .find_map(|l| l.strip_prefix(name))
                            .and_then(|n| n.trim().parse::<u64>().ok())
                            .unwrap_or(0)
                    };
                    refused_forks = counter("max ") > 0;
                    oom_killed = counter("oom_kill ") > 0;
                }
                // The engine could not even fork the command: the limit is reached now.
                Err(ExecError::Engine(BackendError::ProcessLimit { .. })) => refused_forks = true,
                Err(_) => found = fate(Duration::from_secs(1)).await,
            }
        }
    }
    let fate = match found {
        Ok(fate) => fate?,
        Err(err) => {
            return match ctx.backend.ping().await {
                Err(_) => Some("the container engine stopped answering during the case".into()),
                Ok(()) => Some(format!("cannot tell what happened to the container: {err}")),
            }
        }
    };
    let limits = config.limits;
    let memory = crate::spec::limits::Bytes(limits.memory);
    let memory_note = format!(
        "out of memory: the kernel killed a process of the case at its {memory} limit \
         (raise `limits: {{ memory: … }}` in the spec if the case needs more)"
    );
    if fate.gone {
        return Some("the container was removed from outside while the case ran".into());
    }
    if let Some(signal) = &fate.killed {
        let how = match ctx.backend.info().kind {
            EngineKind::Docker => "`docker kill`",
            EngineKind::Podman => "`podman kill`",
            EngineKind::Lxc => "`lxc-stop --kill`",
        };
        return Some(format!(
            "the container was killed from outside ({signal}, {how} or the like) while the case ran"
        ));
    }
    if !fate.running {
        return Some(match (fate.out_of_memory, fate.exit_code) {
            (true, _) => format!("the container was stopped, {memory_note}"),
            (false, Some(code)) => {
                format!("the container stopped while the case ran (its init exited with {code})")
            }
            (false, None) => "the container stopped while the case ran".to_string(),
        });
    }
    if fate.out_of_memory || oom_killed {
        return Some(memory_note);
    }
    // Within a few of the limit now, or forks refused earlier by processes gone since.
    let at_limit = fate
        .pids
        .is_some_and(|(current, limit)| current + 8 >= limit);
    (at_limit || refused_forks).then(|| {
        format!(
            "out of processes: the container reached its limit of {} processes \
             (something forks without bound, or raise `limits: {{ pids: … }}` in the spec)",
            limits.pids
        )
    })
}

/// Prints the kernel's counters of the container's own cgroup, whichever way the engine
/// shows it (cgroup v2; v1 at the root of each hierarchy, as a private cgroup namespace
/// or Podman's mounts show it, else at the process's path): `pids.events`' `max N`
/// counts forks refused at the process limit, `oom_kill N` processes killed for memory
/// (not every engine reports those itself: Podman on cgroup v1 does not).
const COUNTERS: &str = r#"for f in /sys/fs/cgroup/pids.events /sys/fs/cgroup/pids/pids.events "/sys/fs/cgroup/pids$(awk -F: '$2=="pids"{print $3}' /proc/self/cgroup)/pids.events"; do
  [ -r "$f" ] && { cat "$f"; break; }
done
for f in /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control "/sys/fs/cgroup/memory$(awk -F: '$2=="memory"{print $3}' /proc/self/cgroup)/memory.oom_control"; do
  [ -r "$f" ] && { grep '^oom_kill ' "$f"; break; }
done
true"#;
