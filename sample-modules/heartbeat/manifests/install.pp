# @summary Installs the heartbeat scripts and the systemd unit.
#
# @api private
class heartbeat::install {
  file { '/usr/local/bin/heartbeat':
    ensure => file,
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
    source => 'puppet:///modules/heartbeat/heartbeat.sh',
  }

  file { '/usr/local/bin/heartbeat-check':
    ensure => file,
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
    source => 'puppet:///modules/heartbeat/heartbeat-check.sh',
  }

  file { '/etc/systemd/system/heartbeat.service':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => epp('heartbeat/heartbeat.service.epp', {
      'config_file' => $heartbeat::config_file,
      'user'        => $heartbeat::user,
    }),
    notify  => Exec['heartbeat-systemd-reload'],
  }

  # Puppet 5 does not reload systemd by itself when a unit file changes.
  exec { 'heartbeat-systemd-reload':
    command     => 'systemctl daemon-reload',
    path        => ['/usr/bin', '/bin', '/usr/sbin', '/sbin'],
    refreshonly => true,
  }
}
