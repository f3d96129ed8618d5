# @summary Role: batch worker running in a Docker host.
class roles::docker::batch {
  include roles::profile::base
  include roles::profile::batch
}
