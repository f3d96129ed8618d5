# rehearsal's gate: everything that can be found wrong without applying anything, for every
# module of a run on one platform, in one Ruby process with Puppet loaded once:
#
#   ruby gate.rb REQUEST.json OUT_DIR
#
# 1. the syntax of each manifest (Puppet's parser and validator, as `puppet parser
#    validate`), each EPP template (Puppet's EPP parser) and each ERB template (compiled
#    as Ruby, as Puppet's `template()` would);
# 2. puppet-lint, one process per module started first and run beside the rest, in the
#    module's directory so that its `.puppet-lint.rc` is read as the user's own run reads
#    it (`# lint:ignore` is puppet-lint's own);
# 3. the catalog of each case, compiled and not applied: its modulepath, Hiera config,
#    facts (the platform's, with the modulepath's custom facts, under the case's own) and
#    strict mode. The platform's facts are resolved once; a module group whose modules
#    bring facts of their own resolves them anew in its forked child. One forked child a
#    case compiles it, so no case sees another's state.
#
# Each finding and each compile's result is one JSON line on stdout; a compile's output
# (Puppet's `Error:` lines, as `puppet apply` prints them) is in OUT_DIR/<name>.out, and
# with --diff-against its catalog's resources in the file its request names. A case is
# compiled once from the change's modules (named by its plan row, `<id>`) and, with
# --diff-against, once more from the base revision's (`b<id>`).
require 'json'
require 'fileutils'

request = JSON.parse(File.read(ARGV[0]))
OUT_DIR = ARGV[1]
FileUtils.mkdir_p(OUT_DIR)
$stdout.sync = true

def emit(hash)
  $stdout.write(JSON.generate(hash) + "\n")
end

def finding(kind, file, line, column, message, extra = {})
  emit({ 'type' => 'finding', 'kind' => kind, 'file' => file, 'line' => line,
         'column' => column, 'severity' => 'error', 'message' => message }.merge(extra))
end

# puppet-lint for each module asked, started before Puppet loads: its JSON and its status.
def start_lint(lint)
  return nil unless lint['modules'] && !lint['modules'].empty?

  command = %w[puppet-lint --json --relative]
  lint['modules'].map do |dir|
    r, w = IO.pipe
    pid = begin
      Process.spawn(*command, 'manifests', chdir: dir, out: w, err: w, in: :close)
    rescue SystemCallError => e
      w.close
      r.close
      emit({ 'type' => 'lint_unavailable', 'message' => e.message })
      return nil
    end
    w.close
    [dir, pid, r]
  end
end

def finish_lint(started)
  (started || []).each do |dir, pid, r|
    text = r.read
    r.close
    Process.wait(pid)
    data = begin
      JSON.parse(text)
    rescue JSON::ParserError
      emit({ 'type' => 'lint_failed', 'module' => dir, 'message' => text[0, 2000] })
      next
    end
    # puppet-lint 2 and 3 give a list per file; 4 one list.
    problems = data.flatten.select { |p| p.is_a?(Hash) }
    problems.each do |p|
      next if p['kind'].to_s == 'ignored' || p['kind'].to_s == 'fixed'

      # `path` is relative to the module (its `fullpath` is made from $PWD, not the
      # directory puppet-lint ran in).
      path = p['path'].to_s
      path = File.join(dir, path) unless path.start_with?('/')
      emit({ 'type' => 'finding', 'kind' => 'lint', 'file' => File.expand_path(path),
             'line' => p['line'], 'column' => p['column'], 'severity' => p['kind'].to_s,
             'check' => p['check'].to_s, 'message' => p['message'].to_s })
    end
  end
end

def load_puppet
  require 'rubygems'
  require 'puppet'
  Puppet.initialize_settings(['--color=false'])
  Puppet::Util::Log.newdestination(:console)
end

def where(error, fallback)
  file = error.respond_to?(:file) && error.file ? error.file : fallback
  line = error.respond_to?(:line) ? error.line : nil
  column = error.respond_to?(:pos) ? error.pos : nil
  message = error.respond_to?(:basic_message) && error.basic_message ? error.basic_message : error.message
  [file, line, column, message]
end

def validate_manifests(files)
  env = Puppet::Node::Environment.create(:rehearsal_gate, [])
  Puppet.override(current_environment: env, loaders: Puppet::Pops::Loaders.new(env)) do
    pp = Puppet::Pops::Parser::EvaluatingParser.new
    epp = Puppet::Pops::Parser::EvaluatingParser::EvaluatingEppParser.new
    files.each do |file|
      kind = file.end_with?('.epp') ? 'epp' : 'manifest'
      begin
        model = (kind == 'epp' ? epp : pp).parse_file(file)
        declarations(file, model) if kind == 'manifest'
      rescue Puppet::Error, StandardError => e
        file_at, line, column, message = where(e, file)
        finding(kind, file_at, line, column, message)
      end
    end
  end
end

# Each native resource a manifest declares (a body of a resource expression), at the
# line of its title and of its expression, for acceptance coverage: which of them the cases
# applied. A walk of Puppet's own model (`_pcore_all_contents`, Puppet 5 to 8).
def declarations(file, model)
  program = model.respond_to?(:model) ? model.model : model
  return unless program.respond_to?(:_pcore_all_contents) && program.respond_to?(:locator)

  locator = program.locator
  program._pcore_all_contents([]) do |o|
    next unless o.is_a?(Puppet::Pops::Model::ResourceExpression)

    type = o.type_name.respond_to?(:value) ? o.type_name.value.to_s : o.type_name.to_s
    # Classes, and instances of defined types (a module's are named `mod::thing`): a run
    # report lists native resources only, so those are counted where their define
    # declares them.
    next if type.casecmp?('class') || type.include?('::')

    name = type.split('::').map(&:capitalize).join('::')
    at = locator.line_for_offset(o.offset)
    o.bodies.each do |body|
      title = body.title
      shown = title.is_a?(Puppet::Pops::Model::LiteralString) ? title.value : '…'
      emit({ 'type' => 'declaration', 'file' => file, 'resource' => "#{name}[#{shown}]",
             'line' => locator.line_for_offset(title.offset), 'at' => at })
    end
  end
rescue StandardError
  nil
end

def validate_erb(files)
  require 'erb'
  files.each do |file|
    text = File.read(file)
    erb = begin
      ERB.new(text, trim_mode: '-')
    rescue ArgumentError
      ERB.new(text, nil, '-')
    end
    src = erb.src
    # ERB's Ruby starts with an encoding comment of its own: the template's first line is
    # the code's second.
    first = src.start_with?('#coding') ? 0 : 1
    begin
      RubyVM::InstructionSequence.compile(src, file, file, first)
    rescue SyntaxError => e
      text = e.message
      line = text[/#{Regexp.escape(file)}:(\d+)/, 1]
      message = text.sub(/\A#{Regexp.escape(file)}:\d+:\s*/, '').lines.first.to_s.strip
      finding('erb', file, line && line.to_i, nil, message.empty? ? text : message)
    rescue StandardError => e
      finding('erb', file, nil, nil, e.message)
    end
  rescue SystemCallError, ArgumentError => e
    finding('erb', file, nil, nil, e.message)
  end
end

# The platform's facts for a modulepath: Facter with the modules' custom facts, as
# `puppet apply` resolves them.
def facts_for(env)
  Puppet::Node::Facts.indirection.terminus_class = :facter
  Puppet.override(current_environment: env) do
    Puppet::Node::Facts.indirection.find(Puppet[:node_name_value], environment: env).values
  end
end

# A compiled catalog's resources as Puppet's JSON has them, but for the values of
# Sensitive parameters (the compiler unwraps them, naming them in `sensitive_parameters`):
# each is replaced by a digest, so a change is still seen and no value leaves the gate.
def catalog_resources(catalog)
  require 'digest'
  catalog.to_data_hash['resources'].map do |r|
    sensitive = Array(r['sensitive_parameters']).map(&:to_s)
    next r if sensitive.empty? || !r['parameters'].is_a?(Hash)

    params = r['parameters'].dup
    sensitive.each do |name|
      next unless params.key?(name)

      params[name] = { 'sensitive' => Digest::SHA256.hexdigest(JSON.generate([params[name]])) }
    end
    r.merge('parameters' => params)
  end
end

def compile_case(c, env_facts)
  Puppet[:hiera_config] = c['hiera']
  if c['strict']
    Puppet[:strict] = :error
    Puppet[:strict_variables] = true
  end
  env = Puppet::Node::Environment.create(:production, c['modulepath'].split(':'), c['manifest'])
  facts = env_facts.merge(JSON.parse(File.read(c['facts'])))
  Puppet.override(current_environment: env, loaders: Puppet::Pops::Loaders.new(env)) do
    name = Puppet[:node_name_value]
    node = Puppet::Node.new(name, environment: env)
    node.fact_merge(Puppet::Node::Facts.new(name, facts))
    catalog = Puppet::Parser::Compiler.compile(node)
    puts "Notice: compiled a catalog of #{catalog.resources.size} resources"
    # For --diff-against: the catalog's resources as Puppet's own JSON has them.
    File.write(c['catalog'], JSON.generate(catalog_resources(catalog))) if c['catalog']
  end
  0
rescue Puppet::Error => e
  # Puppet's own verdict on the code: the case fails, as its apply would.
  puts "Error: #{e.message}"
  1
rescue Exception => e # rubocop:disable Lint/RescueException
  # Not Puppet's verdict (the gate's own trouble): the case runs as without a gate.
  puts "rehearsal gate: #{e.class}: #{e.message}"
  3
end

# Whether a modulepath's modules bring facts of their own (custom facts in lib/facter,
# external ones in facts.d), which Puppet adds to Facter's search paths.
def own_facts?(modulepath)
  modulepath.split(':').any? do |dir|
    Dir.glob(File.join(dir, '*', '{lib/facter,facts.d}')).any? { |d| File.directory?(d) }
  end
end

# The platform's own facts, resolved once for the groups whose modules bring none (about a
# second and a half with Facter 4, every time); nil where they cannot be resolved (each
# group then tries, and says why).
def core_facts
  timed_facts(Puppet::Node::Environment.create(:production, []))
rescue Exception # rubocop:disable Lint/RescueException
  nil
end

# The facts for an environment, the seconds they took left for the `facts` phase.
def timed_facts(env)
  started = now
  facts = facts_for(env)
  File.write(File.join(OUT_DIR, "facts-#{Process.pid}.seconds"), (now - started).to_s)
  facts
end

def compile_group(group, core)
  env = Puppet::Node::Environment.create(:production, group['modulepath'].split(':'))
  facts = core
  facts = timed_facts(env) if facts.nil? || own_facts?(group['modulepath'])
  group['cases'].each do |c|
    out = File.join(OUT_DIR, "#{c['name']}.out")
    started = now
    pid = fork do
      $stdout.reopen(out, 'w')
      $stderr.reopen($stdout)
      $stdout.sync = true
      exit!(compile_case(c, facts))
    end
    Process.wait(pid)
    status = $?
    File.write(File.join(OUT_DIR, "#{c['name']}.json"), JSON.generate(
      'type' => 'compile', 'id' => c['id'], 'name' => c['name'],
      'exit' => status.exitstatus, 'signal' => status.termsig,
      'seconds' => now - started
    ))
  end
  0
rescue Exception => e # rubocop:disable Lint/RescueException
  # Facts that cannot be resolved here decide nothing: the cases run as without a gate.
  group['cases'].each do |c|
    File.write(File.join(OUT_DIR, "#{c['name']}.out"), "rehearsal gate: cannot resolve the facts: #{e.message}\n")
    File.write(File.join(OUT_DIR, "#{c['name']}.json"),
               JSON.generate('type' => 'compile', 'id' => c['id'], 'name' => c['name'], 'exit' => 3, 'seconds' => 0))
  end
  1
end

# Where the gate's time goes: each phase's seconds, one JSON line each.
def now
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

def phase(name, since)
  emit({ 'type' => 'phase', 'name' => name, 'seconds' => now - since })
end

at = now
lint = start_lint(request['lint'] || {})
load_puppet
phase('load', at)
at = now
validate_manifests(request['manifests'] || [])
validate_erb(request['erb'] || [])
phase('validate', at)
emit({ 'type' => 'validated' })
at = now

lighten_facter
compiles = request['compile'] || []
core = compiles.empty? ? nil : core_facts
# Module groups side by side, `jobs` at a time.
# (Each waited for by its pid: a wait for any child would take puppet-lint's.)
running = []
(request['compile'] || []).each do |group|
  while running.size >= (request['jobs'] || 1)
    running.reject! { |pid| Process.waitpid(pid, Process::WNOHANG) }
    sleep 0.01 if running.size >= (request['jobs'] || 1)
  end
  running << fork { exit!(compile_group(group, core)) }
end
running.each { |pid| Process.waitpid(pid) }
phase('compile', at)
facts = Dir.glob(File.join(OUT_DIR, 'facts-*.seconds')).sum { |f| File.read(f).to_f }
emit({ 'type' => 'phase', 'name' => 'facts', 'seconds' => facts }) if facts.positive?
(request['compile'] || []).each do |group|
  group['cases'].each do |c|
    file = File.join(OUT_DIR, "#{c['name']}.json")
    emit(File.file?(file) ? JSON.parse(File.read(file)) : { 'type' => 'compile', 'id' => c['id'], 'name' => c['name'], 'exit' => nil })
  end
end
at = now
finish_lint(lint)
phase('lint', at) if lint
emit({ 'type' => 'done' })
