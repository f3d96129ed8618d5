# @summary The interrupt case: an apply that does not end by itself; harness/vm/guest-main
# sends SIGINT to the run while it sleeps and checks that nothing of it is left.
class vmsmoke::interrupt {
  exec { 'sleep for the interrupt':
    command => '/bin/sleep 900',
    timeout => 0,
  }
}
