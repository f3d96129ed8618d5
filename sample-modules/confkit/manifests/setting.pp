# @summary One setting in a drop-in file of its own.
#
# Writes `<priority>-<key>.conf` into `directory`, holding the single line
# `key = value` (plus a section header if asked for). Programs that read a
# `conf.d` directory in lexical order (sysctl, systemd, many daemons) let the
# higher priority win.
#
# @example
#   confkit::setting { 'vm.swappiness':
#     directory => '/etc/sysctl.d',
#     value     => 10,
#     priority  => 60,
#   }
#
# @param directory
#   The drop-in directory (it is not created).
# @param value
#   The value of the setting.
# @param key
#   The name of the setting; defaults to the title.
# @param priority
#   Two-digit prefix of the file name.
# @param section
#   Optional INI-style section header.
# @param separator
#   What goes between the key and its value.
define confkit::setting (
  Confkit::Absolutepath $directory,
  Confkit::Value $value,
  String[1] $key = $title,
  Integer[0, 99] $priority = 50,
  Optional[String[1]] $section = undef,
  String $separator = ' = ',
) {
  $safe_key = regsubst($key, '[^A-Za-z0-9_.@-]', '_', 'G')

  confkit::file { "${directory}/${safe_key}":
    directory => $directory,
    filename  => sprintf('%02d-%s.conf', $priority, $safe_key),
    section   => $section,
    separator => $separator,
    settings  => { $key => $value },
  }
}
