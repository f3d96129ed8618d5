# rehearsal's Puppet driver: runs `puppet apply` in Puppet's own Ruby and writes each run's
# transaction report as JSON (Puppet's own to_data_hash) to $REHEARSAL_REPORT, so that
# rehearsal reads every verdict's detail (what changed, from what to what, declared where)
# from data, not from Puppet's console text. Puppet 5.5, 7 and 8.
#
#   ruby driver.rb serve              loads Puppet once, then runs each apply asked of it
#                                     in a fresh child (forked: it resolves facts and
#                                     compiles anew, as `puppet agent` does run after run)
#   ruby driver.rb client ARGS...     asks the server for `puppet apply ARGS`, streams its
#                                     output and exits with its status; without a server
#                                     (it never started, or its Puppet failed to load), the
#                                     apply runs here, cold
#   ruby driver.rb eval CODE ARGS...  as client, for Ruby code that uses Puppet (the probe's
#                                     `resource` checks: what `puppet resource` does),
#                                     ARGS its ARGV; without a server, it runs here
#   ruby driver.rb apply ARGS...      the cold apply
#
# The server listens on an abstract UNIX socket named after the container's PID namespace:
# no file that a mount over /run could hide or a snapshot could keep, and no clash between
# containers. A client that goes away (its step's `timeout` killed it) takes its apply with
# it: the server kills the child and every process under it. A child killed by a signal,
# or a server gone mid-apply, is the driver's failure, not Puppet's: the client says which
# and exits with DRIVER_FAILED.
require 'json'
require 'fileutils'
require 'socket'

DRIVER_FAILED = 125
MARK = "\n\u0000rehearsal-driver-end ".b
GRACE = 5

def socket_name
  "\0rehearsal-driver-#{File.readlink('/proc/self/ns/pid')}"
end

# A client starts without RubyGems (`--disable-gems`, a third of its start); Puppet needs it
# where its libraries are gems (the AIO packages).
def load_puppet
  require 'rubygems'
  require 'puppet'
  require 'puppet/util/command_line'
end

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
  lighten_facter
  if $rehearsal_types && defined?(Puppet::Configurer) &&
     Puppet::Configurer.method_defined?(:apply_catalog)
    Puppet::Configurer.prepend(TellTypes)
  end
  Puppet::Util::CommandLine.new('puppet', ['apply', '--reports=rehearsal', *args]).execute
  0
rescue SystemExit => e
  e.status
end

# Ruby code given by rehearsal, with `args` as its ARGV; its exit status.
def run_code(code, args)
  require 'rubygems'
  ARGV.replace(args)
  eval(code, TOPLEVEL_BINDING, 'rehearsal') # rubocop:disable Security/Eval
  0
rescue SystemExit => e
  e.status
end

def cold(args)
  load_puppet
  exit apply(args)
rescue LoadError => e
  warn "rehearsal: the driver cannot load Puppet here (#{e.message}); plain puppet apply"
  exec('puppet', 'apply', *args)
end

# What every apply loads, loaded once: Puppet's application, compiler and report code, and
# the built-in types that Puppet's settings and every transaction use (file, user, group,
# the class and stage containers, the filebucket, the schedules), with their providers:
# about half of a warm apply's time. The other types a catalog uses (package, service…)
# are loaded once the first apply has told which (`learn`): preloading them all delayed
# every first apply, since the first apply waits for this. Nothing is resolved: Puppet's
# settings stay untouched (each child reads them from its own command line), providers are
# judged suitable in the child, and the features the loading found missing are forgotten,
# so each child tests them anew (an apply may install what a feature needs).
def preload
  %w[puppet/application/apply puppet/configurer puppet/pops puppet/parser
     puppet/resource/catalog puppet/transaction/report facter].each do |lib|
    begin
      require lib
    rescue LoadError
      nil
    end
  end
  load_types(%w[file user group component filebucket schedule stage whit])
end

# Loads Puppet's own types of these names with their providers (a module's own types are
# the child's to load: they come from its modulepath), then forgets the missing features.
# The names of those it loaded that were not loaded before.
def load_types(names)
  own = File.join(File.dirname($LOADED_FEATURES.find { |f| f.end_with?('/puppet.rb') }.to_s),
                  'puppet', 'type')
  fresh = names.uniq.select do |name|
    next false if LOADED.include?(name) || !name.match?(/\A[a-z][a-z0-9_]*\z/)
    next false unless File.file?(File.join(own, "#{name}.rb"))

    LOADED << name
    begin
      Puppet::Type.type(name.to_sym)
    rescue StandardError, LoadError
      nil
    end
    true
  end
  results = Puppet.features.instance_variable_get(:@results)
  results.delete_if { |_, found| found != true } if results.is_a?(Hash)
  fresh
end

LOADED = []

# In a served apply's child: as soon as its catalog is compiled, the types it uses go to
# the server (`learn`), which loads them while the child applies them, for the applies and
# checks that come after (the idempotency apply uses the same types).
module TellTypes
  def apply_catalog(catalog, options)
    if (out = $rehearsal_types)
      $rehearsal_types = nil
      begin
        out.write(catalog.resources.map { |r| r.class.name.to_s }.uniq.join(' '))
        out.close
      rescue SystemCallError, IOError
        nil
      end
    end
    super
  end
end

# The server: one child per connection; the child's output is the connection, then the
# server's end mark says how the child ended (`exit N` or `signal N`).
#
# The preloading ends before the first apply is served, though systemd often boots sooner
# (the first apply then waits for it): serving that apply at once, with the preloading
# beside it, was slower where cases run side by side on every core (bench/overhead: the
# two fight for the CPU), and only as fast on an idle one.
def serve
  load_puppet
  preload
  server = UNIXServer.new(socket_name)
  told = [] # the read ends of the children's pipes that tell their catalogs' types
  loop do
    ready, = IO.select([server, *told])
    ready.each do |io|
      if io.equal?(server)
        told << start(server, told)
      else
        told.delete(io)
        learn(io)
      end
    end
  end
end

# One request: a forked child runs it, the connection its stdio; the read end of the pipe
# on which it tells its catalog's types.
def start(server, told)
  conn = server.accept
  request = JSON.parse(conn.gets || '{}')
  types_in, types_out = IO.pipe
  pid = fork do
    Process.setsid
    server.close
    types_in.close
    told.each(&:close)
    $rehearsal_types = types_out
    $stdin.reopen('/dev/null')
    $stdout.reopen(conn)
    $stderr.reopen(conn)
    $stdout.sync = $stderr.sync = true
    ENV['REHEARSAL_REPORT'] = request['report'].to_s
    code = if request['eval']
             run_code(request['eval'], request['args'] || [])
           else
             apply(request['args'] || [])
           end
    exit!(code.is_a?(Integer) ? code : 1)
  end
  types_out.close
  watch(conn, pid)
  types_in
end

# The types a child's catalog uses, loaded here for the children to come. A child that
# compiled nothing closes its pipe unsaid.
def learn(io)
  names = begin
    io.read.to_s.split
  rescue SystemCallError, IOError
    []
  end
  io.close
  fresh = load_types(names)
  warn "rehearsal driver: loaded #{fresh.join(', ')} for the applies to come" unless fresh.empty?
end

def watch(conn, pid)
  ended = false
  Thread.new do
    _, status = Process.wait2(pid)
    ended = true
    how = status.signaled? ? "signal #{status.termsig}" : "exit #{status.exitstatus}"
    begin
      conn.write("#{MARK}#{how}\n")
    rescue SystemCallError, IOError
      nil
    end
    conn.close rescue nil
  end
  Thread.new do
    begin
      conn.read
    rescue SystemCallError, IOError
      nil
    end
    # The client is gone before its apply ended: so is the apply, and what it started
    # (Puppet runs each command in a session of its own: not the child's process group).
    stop(pid) { ended } unless ended
  end
end

# Stops a child and every process under it: TERM, and KILL to what is left after GRACE.
def stop(pid)
  tree = [pid, *descendants(pid)]
  tree.each { |p| Process.kill('TERM', p) rescue nil }
  (GRACE * 10).times do
    break if tree.all? { |p| (p == pid && yield) || !alive?(p) }
    sleep 0.1
  end
  tree |= tree.flat_map { |p| descendants(p) }
  tree.each { |p| Process.kill('KILL', p) rescue nil }
end

def alive?(pid)
  Process.kill(0, pid)
  true
rescue SystemCallError
  false
end

# The processes under `pid` (its children, theirs…), from /proc.
def descendants(pid)
  children = Hash.new { |h, k| h[k] = [] }
  Dir.glob('/proc/[0-9]*/stat').each do |f|
    stat = File.read(f)
    ppid = stat[(stat.rindex(')') + 2)..].split[1].to_i
    children[ppid] << File.basename(File.dirname(f)).to_i
  rescue SystemCallError, NoMethodError
    nil
  end
  found = []
  queue = [pid]
  until queue.empty?
    kids = children[queue.shift]
    found.concat(kids)
    queue.concat(kids)
  end
  found
end

# A server is still loading Puppet (or serving) while a process runs `driver.rb serve`.
def server_alive?
  Dir.glob('/proc/[0-9]*/cmdline').any? do |f|
    File.read(f).match?(/driver\.rb\0serve(\0|\z)/)
  rescue SystemCallError
    false
  end
end

# Asks the server for an apply of `args` (or to run `code`), else does it here.
def client(args, code = nil)
  sock = nil
  until sock
    begin
      sock = UNIXSocket.new(socket_name)
    rescue Errno::ECONNREFUSED, Errno::ENOENT
      if server_alive?
        sleep 0.05
        next
      end
      exit run_code(code, args) if code
      return cold(args)
    end
  end
  request = { 'args' => args, 'report' => ENV['REHEARSAL_REPORT'] }
  request['eval'] = code if code
  sock.puts(JSON.generate(request))
  $stdout.sync = true
  # Everything but the last bytes goes out as it comes; the mark is in those.
  held = ''.b
  loop do
    chunk = begin
      sock.readpartial(65_536)
    rescue EOFError, SystemCallError
      break
    end
    held << chunk
    keep = held.bytesize - MARK.bytesize - 32
    next unless keep.positive?
    $stdout.write(held.byteslice(0, keep))
    held = held.byteslice(keep..-1)
  end
  at = held.rindex(MARK)
  if at.nil?
    $stdout.write(held)
    warn "\nrehearsal: the Puppet driver's server ended before this apply did (was it killed?)"
    exit DRIVER_FAILED
  end
  $stdout.write(held.byteslice(0, at))
  how, number = held.byteslice((at + MARK.bytesize)..-1).split
  exit number.to_i if how == 'exit'
  signal = Signal.signame(number.to_i) rescue number
  warn "\nrehearsal: Puppet's apply was killed by signal #{number} (SIG#{signal}), not by its timeout"
  exit DRIVER_FAILED
end

case ARGV.shift
when 'apply' then cold(ARGV)
when 'client' then client(ARGV)
when 'eval'
  code = ARGV.shift
  client(ARGV, code)
when 'serve' then serve
else
  warn 'driver.rb: the mode is one of serve, client, eval, apply'
  exit 64
end
