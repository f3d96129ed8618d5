# What every Example Corp node has before its role: a record of where it runs, an
# operators' group, and a shell prompt that names the site.
class profile::base {
  file { '/etc/site-release':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => "site=${facts['site']}\ndatacenter=${facts['datacenter']}\n",
  }
  group { 'operators':
    ensure => present,
    system => true,
  }
  file { '/etc/profile.d/site.sh':
    ensure  => file,
    mode    => '0644',
    content => "PS1='[${facts['site']}] \\u@\\h:\\w\\$ '\n",
  }
}
