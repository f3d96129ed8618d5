# @summary One local user account with its home directory.
#
# The primary group (`gid`) must exist: declare it in `accounts::groups` (or
# elsewhere in the catalogue), Puppet then creates it before the user.
#
# @example
#   accounts::user { 'deploy':
#     uid   => 2201,
#     gid   => 'deploy',
#     home  => '/srv/deploy',
#     shell => '/bin/bash',
#   }
#
# @param uid
#   Numeric user id.
# @param gid
#   Name of the primary group.
# @param ensure
#   Whether the account is present or absent.
# @param groups
#   Supplementary groups; groups not listed here are left alone.
# @param comment
#   GECOS field, usually the full name.
# @param home
#   Home directory; defaults to /home/<login>.
# @param home_mode
#   Mode of the home directory.
# @param shell
#   Login shell.
# @param manage_home
#   Whether the home directory is created and its ownership and mode enforced.
define accounts::user (
  Integer[1000, 59999] $uid,
  String[1] $gid,
  Enum['present', 'absent'] $ensure = 'present',
  Array[String[1]] $groups = [],
  Optional[String] $comment = undef,
  Optional[Pattern[/\A\//]] $home = undef,
  Pattern[/\A0[0-7]{3}\z/] $home_mode = '0750',
  Pattern[/\A\//] $shell = '/bin/bash',
  Boolean $manage_home = true,
) {
  $home_dir = $home ? {
    undef   => "/home/${title}",
    default => $home,
  }

  user { $title:
    ensure     => $ensure,
    uid        => $uid,
    gid        => $gid,
    groups     => $groups,
    membership => 'minimum',
    comment    => $comment,
    home       => $home_dir,
    shell      => $shell,
    managehome => $manage_home,
  }

  if $ensure == 'present' and $manage_home {
    file { $home_dir:
      ensure  => directory,
      owner   => $title,
      group   => $gid,
      mode    => $home_mode,
      require => User[$title],
    }
  }
}
