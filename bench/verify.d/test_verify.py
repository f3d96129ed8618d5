# The testinfra side of bench/verify: one test per assertion of the state table
# (BENCH_STATE), run with `--hosts=docker://ID` (testinfra's docker backend).
import os

import pytest

ROWS = []
with open(os.environ["BENCH_STATE"], encoding="utf-8") as table:
    for line in table:
        kind, *fields = line.rstrip("\n").split("\t")
        ROWS.append((kind, fields))


def rows(kind):
    return [fields for k, fields in ROWS if k == kind]


FILES = rows("file")
USERS = rows("user")
PACKAGES = [f[0] for f in rows("package")]
SERVICES = [f[0] for f in rows("service")]
COMMANDS = rows("command")
assert len(FILES) + len(USERS) + len(PACKAGES) + len(SERVICES) + len(COMMANDS) == len(ROWS)


@pytest.mark.parametrize("path", [f[0] for f in FILES])
def test_file_exists(host, path):
    assert host.file(path).exists


@pytest.mark.parametrize("path,mode", [(f[0], int(f[1], 8)) for f in FILES])
def test_file_mode(host, path, mode):
    assert host.file(path).mode == mode


@pytest.mark.parametrize("path,owner", [(f[0], f[2]) for f in FILES])
def test_file_owner(host, path, owner):
    assert host.file(path).user == owner


@pytest.mark.parametrize("path,line", [(f[0], f[3]) for f in FILES])
def test_file_content(host, path, line):
    assert host.file(path).contains(line)


@pytest.mark.parametrize("name", [u[0] for u in USERS])
def test_user_exists(host, name):
    assert host.user(name).exists


@pytest.mark.parametrize("name,uid", [(u[0], int(u[1])) for u in USERS])
def test_user_uid(host, name, uid):
    assert host.user(name).uid == uid


@pytest.mark.parametrize("name", PACKAGES)
def test_package_installed(host, name):
    assert host.package(name).is_installed


@pytest.mark.parametrize("name", SERVICES)
def test_service_running(host, name):
    assert host.service(name).is_running


@pytest.mark.parametrize("name", SERVICES)
def test_service_enabled(host, name):
    assert host.service(name).is_enabled


# One exec per command, shared by its two assertions (as serverspec's `its` share one).
_results = {}


def run(host, cmd):
    if cmd not in _results:
        _results[cmd] = host.run(cmd)
    return _results[cmd]


@pytest.mark.parametrize("cmd", [c[0] for c in COMMANDS])
def test_command_exit_status(host, cmd):
    assert run(host, cmd).rc == 0


@pytest.mark.parametrize("cmd,out", [(c[0], c[1] + "\n") for c in COMMANDS])
def test_command_stdout(host, cmd, out):
    assert run(host, cmd).stdout == out
