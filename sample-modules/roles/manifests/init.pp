# @summary Entry point of the role layer: picks the role class from facts.
#
# Every node is classified with just `include roles`; the `platform` and
# `role` custom facts (set when the node is provisioned) select
# `roles::<platform>::<role>`.
#
# @example
#   # facts: platform=docker, role=web_frontend
#   include roles   # => includes roles::docker::web_frontend
class roles {
  $platform = $facts['platform']
  $role = $facts['role']

  if $platform =~ Undef or $role =~ Undef {
    fail('roles: the custom facts "platform" and "role" must both be set')
  }

  $role_class = "roles::${platform}::${role}"
  unless defined($role_class) {
    fail("roles: no role class ${role_class} for role '${role}' on platform '${platform}'")
  }

  include $role_class
}
