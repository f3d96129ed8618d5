# @summary The service case: a package's systemd service (cron, in the platform image),
# restarted by a change to its configuration and checked running and enabled.
class vmsmoke::service {
  file { '/etc/cron.d/vmsmoke':
    ensure  => file,
    content => "# harness/vm-test\n*/5 * * * * root true\n",
    mode    => '0644',
  }
  ~> service { 'cron':
    ensure => running,
    enable => true,
  }
}
