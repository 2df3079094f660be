// For tests: a throwaway PostgreSQL 15 cluster (../shared/VERIFIED.md): initdb in a temporary
// directory (as the postgres user when run as root: initdb refuses root), TCP on 127.0.0.1 at
// a free port, durability off; stopped and deleted with the object. url() is empty, and
// error() says why, if it could not start.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace nj::store::testing {

class TempPostgres {
 public:
  TempPostgres() {
    char pattern[] = "/tmp/nj-pg-XXXXXX";
    if (!::mkdtemp(pattern)) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = pattern;
    ::chmod(dir_.c_str(), 0777);
    port_ = free_port();
    const std::string bin = "/usr/lib/postgresql/15/bin/";
    as_ = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
    const std::string data = dir_ + "/data";
    if (run(as_ + bin + "initdb -D " + data + " -A trust -U nj -E UTF8 --locale=C.UTF-8 " +
            "--no-sync > " + dir_ + "/initdb.log 2>&1") != 0) {
      error_ = "initdb failed: " + read(dir_ + "/initdb.log");
      return;
    }
    if (run(as_ + bin + "pg_ctl -D " + data + " -l " + dir_ + "/server.log -w -t 30 -o \"-p " +
            std::to_string(port_) + " -k " + dir_ +
            " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" +
            " -c full_page_writes=off -c max_connections=200\" start > /dev/null 2>&1") != 0) {
      error_ = "pg_ctl start failed: " + read(dir_ + "/server.log");
      return;
    }
    started_ = true;
    url_ = "postgresql://nj@127.0.0.1:" + std::to_string(port_) + "/postgres";
  }
  ~TempPostgres() {
    if (started_) {
      run(as_ + "/usr/lib/postgresql/15/bin/pg_ctl -D " + dir_ + "/data -m immediate stop" +
          " > /dev/null 2>&1");
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  TempPostgres(const TempPostgres&) = delete;
  TempPostgres& operator=(const TempPostgres&) = delete;

  const std::string& url() const { return url_; }
  int port() const { return port_; }
  const std::string& error() const { return error_; }
  // A fresh database in the cluster, for a test of its own: its URL.
  std::string database(const std::string& name) {
    run(as_ + "/usr/lib/postgresql/15/bin/createdb -h 127.0.0.1 -p " + std::to_string(port_) +
        " -U nj " + name + " > /dev/null 2>&1");
    return "postgresql://nj@127.0.0.1:" + std::to_string(port_) + "/" + name;
  }

 private:
  static int run(const std::string& command) { return std::system(command.c_str()); }
  static std::string read(const std::string& path) {
    std::string out;
    if (FILE* f = std::fopen(path.c_str(), "r")) {
      char buf[4096];
      for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
      std::fclose(f);
    }
    return out;
  }
  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
  }
  std::string dir_, as_, url_, error_;
  int port_ = 0;
  bool started_ = false;
};

}  // namespace nj::store::testing
