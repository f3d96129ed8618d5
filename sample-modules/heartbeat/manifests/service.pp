# @summary Runs the heartbeat service.
#
# @api private
class heartbeat::service {
  service { 'heartbeat':
    ensure => $heartbeat::service_ensure,
    enable => $heartbeat::service_enable,
  }
}
