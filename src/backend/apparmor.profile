# rehearsal's AppArmor profile for its containers (Docker and Podman on an AppArmor host),
# loaded by rehearsal as @NAME@ (the name carries a hash of this text, so a new
# rehearsal never runs under an older profile). It is Docker's docker-default, with its
# `deny mount` replaced by what systemd as PID 1 needs and nothing more: the container's
# own cgroup2 mount remounted read-write (a private cgroup namespace makes its root the
# container's own cgroup, whose limits the kernel's nsdelegate keeps out of reach), and
# the mounts systemd makes for its units' sandboxing (PrivateTmp=, ProtectSystem=,
# PrivateDevices=, ProtectProc=, PrivateUsers=...). No other filesystem may be mounted:
# no cgroup2 instance, no sysfs, no devpts, no securityfs, no debugfs; and no bind of
# anything under /proc or /sys, which would escape the path rules below.
#include <tunables/global>

profile @NAME@ flags=(attach_disconnected,mediate_deleted) {
  #include <abstractions/base>

  network,
  capability,
  file,
  umount,
  signal (receive) peer=unconfined,
  signal (receive) peer=runc,
  signal (receive) peer=crun,
  # Under crun (Podman), the container's processes carry a stack, "@NAME@//&crun" or
  # "crun//&@NAME@" (trixie's apparmor has a profile for crun): without these two, systemd
  # cannot stop its services nor read their /proc entries.
  signal (send,receive) peer="{@NAME@,@NAME@//&crun,crun//&@NAME@}",

  deny @{PROC}/* w,
  deny @{PROC}/{[^1-9],[^1-9][^0-9],[^1-9s][^0-9y][^0-9s],[^1-9][^0-9][^0-9][^0-9/]*}/** w,
  deny @{PROC}/sys/[^k]** w,
  deny @{PROC}/sys/kernel/{?,??,[^s][^h][^m]**} w,
  deny @{PROC}/sysrq-trigger rwklx,
  deny @{PROC}/kcore rwklx,

  deny /sys/[^f]*/** wklx,
  deny /sys/f[^s]*/** wklx,
  deny /sys/fs/[^c]*/** wklx,
  deny /sys/fs/c[^g]*/** wklx,
  deny /sys/fs/cg[^r]*/** wklx,
  deny /sys/firmware/** rwklx,
  deny /sys/devices/virtual/powercap/** rwklx,
  deny /sys/kernel/security/** rwklx,

  ptrace (trace,read,tracedby,readby) peer="{@NAME@,@NAME@//&crun,crun//&@NAME@}",
  mount options=(rw, remount, nosuid, nodev, noexec, relatime) -> /sys/fs/cgroup/,
  mount options=(rw, make-slave) -> /{,**},
  mount options=(rw, make-rslave) -> /{,**},
  mount options=(rw, make-shared) -> /{,**},
  mount options=(rw, make-rshared) -> /{,**},
  mount options=(rw, make-private) -> /{,**},
  mount options=(rw, make-rprivate) -> /{,**},
  mount options=(rw, make-unbindable) -> /{,**},
  mount options=(rw, make-runbindable) -> /{,**},

  mount options=(rw, bind) /[^ps]*{,/**},
  mount options=(rw, bind) /p[^r]*{,/**},
  mount options=(rw, bind) /pr[^o]*{,/**},
  mount options=(rw, bind) /pro[^c]*{,/**},
  mount options=(rw, bind) /proc?*{,/**},
  mount options=(rw, bind) /s[^y]*{,/**},
  mount options=(rw, bind) /sy[^s]*{,/**},
  mount options=(rw, bind) /sys?*{,/**},
  mount options=(rw, rbind) /[^ps]*{,/**},
  mount options=(rw, rbind) /p[^r]*{,/**},
  mount options=(rw, rbind) /pr[^o]*{,/**},
  mount options=(rw, rbind) /pro[^c]*{,/**},
  mount options=(rw, rbind) /proc?*{,/**},
  mount options=(rw, rbind) /s[^y]*{,/**},
  mount options=(rw, rbind) /sy[^s]*{,/**},
  mount options=(rw, rbind) /sys?*{,/**},
  mount options=(rw, move) /[^ps]*{,/**},
  mount options=(rw, move) /p[^r]*{,/**},
  mount options=(rw, move) /pr[^o]*{,/**},
  mount options=(rw, move) /pro[^c]*{,/**},
  mount options=(rw, move) /proc?*{,/**},
  mount options=(rw, move) /s[^y]*{,/**},
  mount options=(rw, move) /sy[^s]*{,/**},
  mount options=(rw, move) /sys?*{,/**},
  mount options=(rw, rbind) / -> /run/systemd/unit-root/,

  # While systemd builds a unit's root, it re-applies the flags of binds under it,
  # read-write: /proc and the cgroup tree themselves (their read-only submounts, such as
  # /proc/sys, keep their own flags) and files and directories it binds for
  # ExecPaths=/NoExecPaths= and the like. Never under /proc or /sys otherwise.
  mount options=(rw, nosuid, nodev, noexec, remount, bind) -> /run/systemd/unit-root/{proc,sys/fs/cgroup}/,
  mount options=(rw, remount, bind) -> /run/systemd/unit-root/[^ps]*{,/**},
  mount options=(rw, nosuid, remount, bind) -> /run/systemd/unit-root/[^ps]*{,/**},
  mount options=(rw, nosuid, nodev, remount, bind) -> /run/systemd/unit-root/[^ps]*{,/**},
  mount options=(rw, nosuid, nodev, noexec, remount, bind) -> /run/systemd/unit-root/[^ps]*{,/**},

  # Remounts read-only only (ProtectSystem=, ProtectHome=, ReadOnlyPaths=...).
  mount options=(ro, remount, bind),
  mount options=(ro, remount, bind, nosuid),
  mount options=(ro, remount, bind, noexec),
  mount options=(ro, remount, bind, nodev),
  mount options=(ro, remount, bind, nosuid, noexec),
  mount options=(ro, remount, bind, noexec, nodev),
  mount options=(ro, remount, bind, nodev, nosuid),
  mount options=(ro, remount, bind, nosuid, noexec, nodev),
  deny mount options=(ro, remount) -> /,

  mount fstype=tmpfs,
  mount fstype=mqueue,
  # systemd's credentials (ramfs, moved into place) and hugepages (dev-hugepages.mount).
  mount fstype=ramfs -> /dev/shm/,
  mount fstype=hugetlbfs -> /dev/hugepages/,
  # Not fusectl: it lists and aborts every FUSE connection of the host
  # (sys-fs-fuse-connections.mount fails; systemd is `degraded`, which rehearsal accepts).
  mount fstype=proc -> /{,run/systemd/**/}proc/,

  userns,
}
