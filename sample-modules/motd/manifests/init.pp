# @summary Manages the login banners: /etc/motd and /etc/issue.net.
#
# /etc/motd is rendered from an EPP template and is shown after login;
# /etc/issue.net is rendered from an ERB template and is shown by sshd
# before authentication (when `Banner /etc/issue.net` is configured).
#
# @example Declaring the class
#   class { 'motd':
#     message => 'Maintenance window: Sundays 02:00-04:00 UTC',
#     contact => 'ops@example.com',
#   }
#
# @param message
#   The main text of the banner.
# @param organisation
#   Name of the organisation shown in both banners.
# @param contact
#   Optional contact address shown in /etc/motd.
# @param show_facts
#   Whether /etc/motd carries a short system summary built from facts.
# @param manage_issue_net
#   Whether /etc/issue.net is managed.
# @param owner
#   Owner of the banner files.
# @param group
#   Group of the banner files.
# @param mode
#   Mode of the banner files, as a four-digit octal string.
class motd (
  String[1] $message = 'Authorised access only. Activity on this system is monitored.',
  String[1] $organisation = 'Example Corp',
  Optional[String[1]] $contact = undef,
  Boolean $show_facts = true,
  Boolean $manage_issue_net = true,
  String[1] $owner = 'root',
  String[1] $group = 'root',
  Pattern[/\A0[0-7]{3}\z/] $mode = '0644',
) {
  # Only facts that do not change between runs, so that the file is stable.
  $system_summary = {
    'Hostname' => $facts['networking']['hostname'],
    'OS'       => "${facts['os']['name']} ${facts['os']['release']['full']}",
    'Kernel'   => $facts['kernelrelease'],
  }

  file { '/etc/motd':
    ensure  => file,
    owner   => $owner,
    group   => $group,
    mode    => $mode,
    content => epp('motd/motd.epp', {
      'message'        => $message,
      'organisation'   => $organisation,
      'contact'        => $contact,
      'show_facts'     => $show_facts,
      'system_summary' => $system_summary,
    }),
  }

  if $manage_issue_net {
    # Variables used by the ERB template.
    $os_name = $facts['os']['name']

    file { '/etc/issue.net':
      ensure  => file,
      owner   => $owner,
      group   => $group,
      mode    => $mode,
      content => template('motd/issue.net.erb'),
    }
  }
}
