# @summary Restarts heartbeat from cron when its monitoring check fails.
#
# A safety net for hosts without external monitoring: every few minutes cron
# runs `heartbeat-check` and restarts the service when the beat is stale.
#
# @example
#   include heartbeat
#   include heartbeat::watchdog
#
# @param minutes
#   Run the check every this many minutes.
class heartbeat::watchdog (
  Integer[1, 59] $minutes = 5,
) {
  require heartbeat

  package { 'cron':
    ensure => installed,
  }

  file { '/etc/cron.d/heartbeat-watchdog':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => @("CRON"),
      # Managed by Puppet (heartbeat::watchdog).
      SHELL=/bin/sh
      PATH=/usr/local/bin:/usr/bin:/bin
      */${minutes} * * * * root heartbeat-check >/dev/null || systemctl restart heartbeat.service
      | CRON
    require => Package['cron'],
  }

  service { 'cron':
    ensure  => running,
    enable  => true,
    require => Package['cron'],
  }
}
