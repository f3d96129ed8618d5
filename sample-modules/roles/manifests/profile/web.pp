# @summary Profile: the front end's health page, served on `health_port` for the
# load balancer by a socket-activated systemd unit (no web server package needed).
#
# @param docroot
#   The document root.
# @param health_port
#   The TCP port the load balancer polls.
class roles::profile::web (
  String[1] $docroot = '/srv/www',
  Integer[1, 65535] $health_port = 8080,
) {
  $site = $facts.dig('datacenter', 'site')

  file { $docroot:
    ensure => directory,
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
  }

  # Health page polled by the load balancer; names the site that answered.
  file { "${docroot}/health.html":
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => "<html><body>ok ${site}</body></html>\n",
  }

  file { '/usr/local/bin/health-page':
    ensure => file,
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
    source => 'puppet:///modules/roles/health-page.sh',
  }

  file { '/etc/systemd/system/health.socket':
    ensure  => file,
    mode    => '0644',
    content => "[Unit]\nDescription=Health page for the load balancer\n\n[Socket]\nListenStream=${health_port}\nAccept=yes\n\n[Install]\nWantedBy=sockets.target\n",
  }

  file { '/etc/systemd/system/health@.service':
    ensure  => file,
    mode    => '0644',
    content => "[Unit]\nDescription=Health page request\n\n[Service]\nExecStart=/usr/local/bin/health-page ${docroot}\nStandardInput=socket\nStandardOutput=socket\nUser=nobody\n",
  }

  # Puppet 5 does not reload systemd by itself.
  exec { 'roles health units':
    command     => '/bin/systemctl daemon-reload',
    refreshonly => true,
    subscribe   => File['/etc/systemd/system/health.socket', '/etc/systemd/system/health@.service'],
  }

  service { 'health.socket':
    ensure    => running,
    enable    => true,
    require   => [Exec['roles health units'], File['/usr/local/bin/health-page']],
    subscribe => File['/etc/systemd/system/health.socket'],
  }
}
