# @summary Manages local groups and user accounts from Hiera data.
#
# Both hashes are normally merged across the Hiera hierarchy (see the
# `lookup_options` in the site data), so a role can add accounts to the ones
# every host gets.
#
# @example Hiera data
#   accounts::groups:
#     sysadmin:
#       gid: 2000
#   accounts::users:
#     alice:
#       uid: 2101
#       gid: sysadmin
#       groups: [adm]
#       comment: Alice Example
#
# @param users
#   Accounts to manage, keyed by login name; see `accounts::user`.
# @param groups
#   Groups to manage, keyed by group name.
# @param default_shell
#   Login shell for users that do not set one.
class accounts (
  Hash[String[1], Accounts::Userspec] $users = {},
  Hash[String[1], Accounts::Groupspec] $groups = {},
  Pattern[/\A\//] $default_shell = '/bin/bash',
) {
  $groups.each |String $name, Hash $attrs| {
    group { $name:
      * => { 'ensure' => 'present' } + $attrs,
    }
  }

  $users.each |String $name, Hash $attrs| {
    accounts::user { $name:
      * => { 'shell' => $default_shell } + $attrs,
    }
  }
}
