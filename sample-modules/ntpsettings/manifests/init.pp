# @summary Time synchronisation settings for systemd-timesyncd.
#
# Writes a drop-in file into /etc/systemd/timesyncd.conf.d with the site's
# NTP servers, using the `confkit` library module. The daemon itself comes
# with the base image; set `manage_service` where it is installed.
#
# @example
#   class { 'ntpsettings':
#     servers => ['ntp1.example.net', 'ntp2.example.net'],
#   }
#
# @param servers
#   NTP servers to use, in order of preference.
# @param fallback_servers
#   Servers used when none of `servers` can be reached; empty to keep the
#   compiled-in default.
# @param poll_interval_max
#   Longest poll interval, in seconds.
# @param purge_dropins
#   Whether other drop-in files in the directory are removed.
# @param manage_service
#   Whether the systemd-timesyncd service is kept running and restarted on changes.
class ntpsettings (
  Array[String[1], 1] $servers = ['0.debian.pool.ntp.org', '1.debian.pool.ntp.org'],
  Array[String[1]] $fallback_servers = [],
  Integer[32, 65536] $poll_interval_max = 2048,
  Boolean $purge_dropins = false,
  Boolean $manage_service = false,
) {
  $dropin_dir = '/etc/systemd/timesyncd.conf.d'

  $base_settings = {
    'NTP'                => $servers,
    'PollIntervalMaxSec' => $poll_interval_max,
  }
  $fallback_settings = empty($fallback_servers) ? {
    true    => {},
    default => { 'FallbackNTP' => $fallback_servers },
  }

  confkit::confdir { $dropin_dir:
    purge => $purge_dropins,
  }

  confkit::file { 'ntpsettings':
    directory => $dropin_dir,
    filename  => '50-ntpsettings.conf',
    section   => 'Time',
    separator => '=',
    settings  => $base_settings + $fallback_settings,
    require   => Confkit::Confdir[$dropin_dir],
  }

  if $manage_service {
    service { 'systemd-timesyncd':
      ensure    => running,
      enable    => true,
      subscribe => Confkit::File['ntpsettings'],
    }
  }
}
