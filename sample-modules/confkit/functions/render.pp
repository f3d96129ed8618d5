# @summary Renders a hash of settings as `key = value` lines.
#
# Keys keep the order of the hash. Lists are written space-separated on one
# line, booleans as `true`/`false`. Every line ends with a newline; no
# settings and no section give an empty string.
#
# @example
#   confkit::render({ 'port' => 8080, 'listen' => ['::1', '127.0.0.1'] })
#   # => "port = 8080\nlisten = ::1 127.0.0.1\n"
#   confkit::render({ 'NTP' => 'ntp1.example.net' }, '=', 'Time')
#   # => "[Time]\nNTP=ntp1.example.net\n"
#
# @param settings
#   The settings, keyed by name.
# @param separator
#   What goes between a key and its value.
# @param section
#   If given, an INI-style `[section]` header is written first.
#
# @return [String] The rendered lines.
function confkit::render(
  Hash[String[1], Confkit::Value] $settings,
  String $separator = ' = ',
  Optional[String[1]] $section = undef,
) >> String {
  $header = $section ? {
    undef   => [],
    default => ["[${section}]"],
  }

  $lines = $settings.map |String $key, Confkit::Value $value| {
    $rendered = $value ? {
      Array   => join($value, ' '),
      default => String($value),
    }
    "${key}${separator}${rendered}"
  }

  $all_lines = $header + $lines
  if empty($all_lines) {
    ''
  } else {
    "${join($all_lines, "\n")}\n"
  }
}
