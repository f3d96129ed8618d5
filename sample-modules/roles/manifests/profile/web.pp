# @summary Profile: static document root served by the front-end container.
#
# @param docroot
#   The document root.
class roles::profile::web (
  String[1] $docroot = '/srv/www',
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
}
