# @summary The hardened case: Debian 12's redis-server, whose unit asks systemd for
# User=, PrivateUsers=, ProtectProc= and friends; installed from Debian's archive, so the
# case container needs the network (the engine's bridge, NAT by QEMU's user network).
class vmsmoke::hardened {
  exec { 'apt-get update':
    command => '/usr/bin/apt-get update -q',
    creates => '/usr/bin/redis-server',
  }
  -> package { 'redis-server':
    ensure => installed,
  }
  -> service { 'redis-server':
    ensure => running,
    enable => true,
  }
}
