# @summary A configuration directory (`foo.conf.d`) for drop-in files.
#
# @example A directory where only Puppet's files survive
#   confkit::confdir { '/etc/myapp/conf.d':
#     purge => true,
#   }
#
# @param purge
#   Whether files in the directory that Puppet does not manage are removed.
# @param owner
#   Owner of the directory.
# @param group
#   Group of the directory.
# @param mode
#   Mode of the directory.
define confkit::confdir (
  Boolean $purge = false,
  String[1] $owner = 'root',
  String[1] $group = 'root',
  Pattern[/\A0[0-7]{3}\z/] $mode = '0755',
) {
  assert_type(Confkit::Absolutepath, $title)

  file { $title:
    ensure  => directory,
    owner   => $owner,
    group   => $group,
    mode    => $mode,
    recurse => $purge,
    purge   => $purge,
    force   => $purge,
  }
}
