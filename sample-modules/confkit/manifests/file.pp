# @summary A drop-in file made of `key = value` lines.
#
# @example
#   confkit::file { 'myapp':
#     directory => '/etc/myapp/conf.d',
#     settings  => { 'port' => 8080, 'listen' => ['::1', '127.0.0.1'] },
#   }
#
# @param directory
#   The directory the file is written to (it is not created).
# @param settings
#   The settings, keyed by name; see `confkit::render`.
# @param ensure
#   Whether the file is present or absent.
# @param filename
#   Name of the file inside `directory`.
# @param section
#   Optional INI-style section header.
# @param separator
#   What goes between a key and its value.
# @param comment
#   Comment line written at the top of the file; empty for none.
# @param owner
#   Owner of the file.
# @param group
#   Group of the file.
# @param mode
#   Mode of the file.
define confkit::file (
  Confkit::Absolutepath $directory,
  Hash[String[1], Confkit::Value] $settings = {},
  Enum['present', 'absent'] $ensure = 'present',
  Pattern[/\A[A-Za-z0-9_.@-]+\z/] $filename = "${title}.conf",
  Optional[String[1]] $section = undef,
  String $separator = ' = ',
  String $comment = '# Managed by Puppet. Local changes will be overwritten.',
  String[1] $owner = 'root',
  String[1] $group = 'root',
  Pattern[/\A0[0-7]{3}\z/] $mode = '0644',
) {
  $header = $comment ? {
    ''      => '',
    default => "${comment}\n",
  }
  $body = confkit::render($settings, $separator, $section)

  $file_ensure = $ensure ? {
    'present' => 'file',
    default   => 'absent',
  }

  file { "${directory}/${filename}":
    ensure  => $file_ensure,
    owner   => $owner,
    group   => $group,
    mode    => $mode,
    content => "${header}${body}",
  }
}
