# @summary Installs and runs the heartbeat daemon as a systemd service.
#
# The daemon writes the current time to `state_file` every `interval`
# seconds; `/usr/local/bin/heartbeat-check` is a monitoring plugin that
# alerts when the file goes stale.
#
# @example
#   class { 'heartbeat':
#     interval => 10,
#   }
#
# @param interval
#   Seconds between two beats.
# @param state_dir
#   Directory holding the state file; owned by `user`.
# @param user
#   System user the daemon runs as (must already exist).
# @param service_ensure
#   Whether the service is running or stopped.
# @param service_enable
#   Whether the service starts at boot.
class heartbeat (
  Integer[1, 3600] $interval = 5,
  Pattern[/\A\/./] $state_dir = '/var/lib/heartbeat',
  String[1] $user = 'daemon',
  Enum['running', 'stopped'] $service_ensure = 'running',
  Boolean $service_enable = true,
) {
  $config_file = '/etc/heartbeat/heartbeat.conf'
  $state_file = "${state_dir}/beat"

  contain heartbeat::install
  contain heartbeat::config
  contain heartbeat::service

  # A new script, unit or configuration restarts the daemon.
  Class['heartbeat::install']
  -> Class['heartbeat::config']
  ~> Class['heartbeat::service']

  Class['heartbeat::install'] ~> Class['heartbeat::service']
}
