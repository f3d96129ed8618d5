# @summary The plain case: one file, no service, no network.
class vmsmoke {
  file { '/etc/vmsmoke':
    ensure  => file,
    content => "hello from the vm\n",
    mode    => '0640',
  }
}
