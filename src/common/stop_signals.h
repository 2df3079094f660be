// SIGINT and SIGTERM, blocked in the calling thread (and so in every thread it starts after),
// to be taken by sigwait() on the set returned: a process's way to stop cleanly, whichever
// thread would otherwise have been interrupted.
#pragma once

#include <pthread.h>
#include <signal.h>

namespace nj {

inline sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

}  // namespace nj
