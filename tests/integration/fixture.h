// The integration fixture: starts a real `nightjar serve --data <tmp> --http-port 0`,
// reads ports.json, and talks HTTP and WebSocket to it over loopback.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/database.h"

namespace nj::testing {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::vector<std::string> set_cookies;        // every Set-Cookie value
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class ServerProcess {
 public:
  // config_toml is written to DIR/nightjar.toml and passed with --config when not empty.
  explicit ServerProcess(std::string config_toml = "", std::vector<std::string> extra_args = {});
  ~ServerProcess();

  // Starts and waits for ports.json; returns false (with log()) if it did not come up.
  bool start(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // SIGTERM, then waits; returns the exit status (or -signal).
  int stop(int signal = 15);
  // Waits for the process to exit by itself; nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  uint16_t http_port() const { return http_port_; }
  uint16_t rtsp_port() const { return rtsp_port_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  const std::filesystem::path& web_root() const { return web_root_; }
  std::string log() const;
  // Runs `nightjar admin --data DIR args…` (by /bin/sh, on the server's database) and returns
  // its standard output; status gets the exit code.
  std::string admin(const std::string& args, int* status = nullptr) const;
  // Options every admin() call gets first (e.g. a cluster's --shared-keys DIR).
  void set_admin_options(std::string options) { admin_options_ = std::move(options); }
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Resident memory of the server process, in KB (VmRSS); 0 if unknown.
  long rss_kb() const;

  // The server's database, whichever engine it runs on (SQLite, or PostgreSQL with
  // NJ_TEST_POSTGRES=1), for tests that check what is stored:
  // a statement's rows as sqlite3 prints them ('|' between fields, a row a line);
  std::string sql(const std::string& statement) const;
  // everything in it, as SQL text;
  std::string dump_database() const;
  // a backup taken while it runs, and put back while it is stopped (false on failure);
  bool backup_database(const std::filesystem::path& to) const;
  bool restore_database(const std::filesystem::path& from);
  // a connection of the test's own (nullptr on failure).
  std::unique_ptr<store::Database> open_database() const;
  // From its next start on, the server keeps its data in this PostgreSQL database (dropped
  // with the object); for a move from SQLite (admin migrate-to-postgres).
  void use_postgres(const std::string& url);
  // From its next start on, the server runs with these in its environment too ("NAME=value").
  void add_environment(std::vector<std::string> entries) {
    extra_env_.insert(extra_env_.end(), entries.begin(), entries.end());
  }
  // From its next start on, the server is another node on `other`'s PostgreSQL database
  // (NJ_TEST_POSTGRES=1): what one node changes, the other sees (issue #17).
  void share_database_of(const ServerProcess& other);

  HttpResult request(const std::string& method, const std::string& target,
                     const std::map<std::string, std::string>& headers = {},
                     const std::string& body = {}) const;
  HttpResult get(const std::string& target) const { return request("GET", target); }

 private:
  std::string config_toml_;
  std::string admin_options_;
  std::string database_url_;    // NJ_TEST_POSTGRES=1: its PostgreSQL database
  bool owns_database_ = false;  // made for it, and dropped with it
  std::vector<std::string> extra_args_;
  std::vector<std::string> extra_env_;
  std::filesystem::path root_, data_dir_, web_root_, log_file_;
  pid_t pid_ = -1;
  uint16_t http_port_ = 0;
  uint16_t rtsp_port_ = 0;
};

// A command run by /bin/sh in the background (a pusher, say); killed when destroyed.
class BackgroundCommand {
 public:
  explicit BackgroundCommand(const std::string& command);
  ~BackgroundCommand();
  bool running();

 private:
  pid_t pid_ = -1;
};

// Text in single quotes for /bin/sh.
std::string sh_quote(const std::string& text);
// The simulated camera's binary, beside the server's.
std::string camera_binary();
// Registers a camera with the server (admin device add) and keeps its secret in DIR/secret,
// where nightjar-cam --secret-file reads it.
void add_device(ServerProcess& server, const std::string& serial, const std::string& model,
                const std::filesystem::path& dir);

// Runs a command by /bin/sh and returns its standard output; status gets the exit code.
std::string run_command(const std::string& command, int* status = nullptr);

// A raw TCP connection for sending malformed or slow requests.
class RawConnection {
 public:
  // receive_buffer > 0 fixes the socket's receive buffer (SO_RCVBUF) at about that size,
  // which the kernel otherwise grows as the reader keeps up.
  explicit RawConnection(uint16_t port, int receive_buffer = 0);
  ~RawConnection();
  bool send(const std::string& bytes);
  // Reads until the peer closes or timeout; returns what arrived.
  std::string read_all(std::chrono::milliseconds timeout);
  // Reads until `until` has arrived (returns everything read, up to and past it), the peer
  // closes, or timeout.
  std::string read_until(const std::string& until, std::chrono::milliseconds timeout);
  bool connected() const { return fd_ >= 0; }
  // True if the peer closed the connection within timeout.
  bool closed_within(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
};

// A WebSocket client (Beast, synchronous).
class WsClient {
 public:
  WsClient();
  ~WsClient();
  // Returns the HTTP status of the handshake (101 on success).
  int connect(uint16_t port, const std::string& target,
              const std::map<std::string, std::string>& headers = {});
  bool send_text(const std::string& text);
  bool send(const std::string& data, bool binary);
  // nullopt on close, error or timeout.
  std::optional<std::string> receive(std::chrono::milliseconds timeout);
  // The connection is over (closed by the peer, or failed): receive() gets nothing more.
  bool closed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Polls pred every 100 ms until it holds or the time is up; returns its last answer.
template <typename Pred>
bool wait_for(Pred pred, std::chrono::milliseconds timeout) {
  for (auto end = std::chrono::steady_clock::now() + timeout;
       std::chrono::steady_clock::now() < end;
       std::this_thread::sleep_for(std::chrono::milliseconds(100))) {
    if (pred()) return true;
  }
  return pred();
}

// A request as a signed-in person (Bearer), with a JSON body unless `body` is null.
HttpResult call_as(const ServerProcess& server, const std::string& bearer,
                   const std::string& method, const std::string& path,
                   const nlohmann::json& body = nullptr);
// Registers a device (`nightjar admin device add`); returns its secret ("" on failure).
std::string add_device(const ServerProcess& server, const std::string& serial);
// Adds a registered device to the person's account by the pairing code on its label, as
// the app does; returns its id (with a test failure and "" if refused).
std::string bind_by_label(const ServerProcess& server, const std::string& serial,
                          const std::string& bearer);

// "2026-12-04T16:32:51.123Z" as Unix milliseconds (0 if it is not such a time).
int64_t parse_rfc3339_ms(const nlohmann::json& t);

// Signs an account up on the server, verifies it from the kept mail (no SMTP in tests) and
// signs in; returns the session's bearer token (empty, with test failures, if it could not).
std::string sign_up(const ServerProcess& server, const std::string& email,
                    const std::string& region = "");
// A new session of an account sign_up made (its password is sign_up's): the token.
std::string sign_in(const ServerProcess& server, const std::string& email);

}  // namespace nj::testing
