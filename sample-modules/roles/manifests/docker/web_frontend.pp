# @summary Role: web front end running in a Docker host.
class roles::docker::web_frontend {
  include roles::profile::base
  include roles::profile::web
}
