# @summary Profile applied to every role: records the node's role and location.
#
# Writes /etc/role (read by the login banner and the inventory scripts) and
# /etc/location, built from the structured `datacenter` fact.
#
# @param location_file
#   Where the location is written.
class roles::profile::base (
  String[1] $location_file = '/etc/location',
) {
  file { '/etc/role':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => "${facts['role']}\n",
  }

  file { $location_file:
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => epp('roles/location.epp', {
      'site'     => $facts.dig('datacenter', 'site'),
      'rack'     => $facts.dig('datacenter', 'rack'),
      'platform' => $facts['platform'],
    }),
  }
}
