# @summary Profile: spool directory and job list of a batch worker.
#
# @param spool_dir
#   Where queued jobs are dropped.
# @param max_jobs
#   How many jobs run at the same time.
class roles::profile::batch (
  String[1] $spool_dir = '/var/spool/batch',
  Integer[1] $max_jobs = 4,
) {
  file { $spool_dir:
    ensure => directory,
    owner  => 'root',
    group  => 'root',
    mode   => '0750',
  }

  $site = $facts.dig('datacenter', 'site')

  file { '/etc/batch.conf':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => @("CONF"),
      # Managed by Puppet (roles::profile::batch)
      spool_dir=${spool_dir}
      max_jobs=${max_jobs}
      site=${site}
      | CONF
  }
}
