# The base every node gets: remote access, a mail relay, metrics, a firewall, the tools
# operators expect, the languages their scripts use, and a record of the site.
class profile::base {
  package { [
    'openssh-server', 'sudo', 'rsync', 'curl', 'git', 'python3', 'vim', 'less', 'jq',
    'tree', 'logrotate', 'rsyslog', 'cron', 'bash-completion', 'htop', 'lsof', 'strace',
    'tcpdump', 'bind9-dnsutils', 'unattended-upgrades', 'man-db', 'postfix',
    'prometheus-node-exporter', 'nftables', 'nfs-common', 'sysstat', 'zstd',
  ]:
    ensure => installed,
  }
  file { '/etc/site-release':
    ensure  => file,
    content => "datacenter=${facts['datacenter']}\n",
    mode    => '0644',
  }
}
