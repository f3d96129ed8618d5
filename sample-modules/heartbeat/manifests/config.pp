# @summary Writes the heartbeat configuration and its state directory.
#
# @api private
class heartbeat::config {
  file { '/etc/heartbeat':
    ensure => directory,
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
  }

  file { $heartbeat::config_file:
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => epp('heartbeat/heartbeat.conf.epp', {
      'interval'   => $heartbeat::interval,
      'state_file' => $heartbeat::state_file,
    }),
  }

  file { $heartbeat::state_dir:
    ensure => directory,
    owner  => $heartbeat::user,
    group  => 'root',
    mode   => '0755',
  }
}
