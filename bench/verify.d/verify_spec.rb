# The serverspec side of bench/verify: one example per assertion of the state table
# (BENCH_STATE), against the running container BENCH_CONTAINER through Specinfra's
# docker backend (Docker API exec into the existing container).
require 'serverspec'

set :backend, :docker
set :docker_container, ENV.fetch('BENCH_CONTAINER')
# Given rather than detected: spares serverspec its OS-detection execs (in its favour).
set :os, family: 'debian', release: '12', arch: 'x86_64'

rows = File.readlines(ENV.fetch('BENCH_STATE'), chomp: true).map { |line| line.split("\t", -1) }
rows.each do |kind, *f|
  case kind
  when 'file'
    path, mode, owner, line = f
    describe file(path) do
      it { should exist }
      it { should be_mode mode }
      it { should be_owned_by owner }
      it { should contain line }
    end
  when 'user'
    name, uid = f
    describe user(name) do
      it { should exist }
      it { should have_uid Integer(uid) }
    end
  when 'package'
    describe package(f[0]) do
      it { should be_installed }
    end
  when 'service'
    describe service(f[0]) do
      it { should be_running }
      it { should be_enabled }
    end
  when 'command'
    cmd, out = f
    describe command(cmd) do
      its(:exit_status) { should eq 0 }
      its(:stdout) { should eq "#{out}\n" }
    end
  else
    raise "unknown row kind #{kind.inspect}"
  end
end
