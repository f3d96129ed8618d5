# A login banner naming the node's datacenter.
class motd_banner (String $owner = 'ops') {
  file { '/etc/motd':
    ensure  => file,
    content => "Managed by Puppet for ${owner}; see /etc/site-release\n",
  }
}
