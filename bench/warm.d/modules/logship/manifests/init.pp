# Rotates and ships an application's logs (rotation by the base's logrotate).
class logship (String $app = 'app') {
  file { "/var/log/${app}":
    ensure => directory,
    mode   => '0750',
  }
  file { "/etc/logrotate.d/${app}":
    ensure  => file,
    content => "/var/log/${app}/*.log {\n  daily\n  missingok\n  rotate 7\n  compress\n}\n",
  }
}
