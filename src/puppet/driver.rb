# rehearsal's Puppet driver: runs `puppet apply` in Puppet's own Ruby, and writes the
# run's transaction report as JSON (Puppet's own to_data_hash) to $REHEARSAL_REPORT, so
# that rehearsal reads every verdict's detail (what changed, from what to what, declared
# where) from data, not from Puppet's console text. Puppet 5.5, 7 and 8.
#
#   ruby driver.rb apply PUPPET-APPLY-ARGUMENTS...
#
# Exits with `puppet apply`'s own status. A Ruby whose Puppet cannot be loaded here runs
# plain `puppet apply` (no report is written, and rehearsal says so).
require 'json'
require 'fileutils'

def register_report
  Puppet::Reports.register_report(:rehearsal) do
    desc 'rehearsal: the transaction report as JSON, where $REHEARSAL_REPORT says'
    def process
      path = ENV['REHEARSAL_REPORT']
      return if path.nil? || path.empty?
      FileUtils.mkdir_p(File.dirname(path))
      File.write("#{path}.tmp", JSON.generate(to_data_hash))
      File.rename("#{path}.tmp", path)
    end
  end
end

def apply(args)
  register_report
  Puppet::Util::CommandLine.new('puppet', ['apply', '--reports=rehearsal', *args]).execute
  0
rescue SystemExit => e
  e.status
end

mode = ARGV.shift
unless mode == 'apply'
  warn "driver.rb: unknown mode #{mode.inspect} (apply)"
  exit 64
end
begin
  require 'puppet'
  require 'puppet/util/command_line'
rescue LoadError => e
  warn "rehearsal: the driver cannot load Puppet here (#{e.message}); plain puppet apply"
  exec('puppet', 'apply', *ARGV)
end
exit apply(ARGV)
