#include "integration/fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "store/test_postgres.h"

extern char** environ;

namespace nj::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
namespace fs = std::filesystem;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1000;
}

}  // namespace

ServerProcess::ServerProcess(std::string config_toml, std::vector<std::string> extra_args)
    : config_toml_(std::move(config_toml)), extra_args_(std::move(extra_args)) {
  char pattern[] = "/tmp/nj-it-XXXXXX";
  root_ = ::mkdtemp(pattern);
  data_dir_ = root_ / "data";
  web_root_ = root_ / "web";
  log_file_ = root_ / "server.log";
  fs::create_directories(web_root_ / "assets");
  std::ofstream(web_root_ / "index.html") << "<!doctype html><title>Nightjar test app</title>";
  std::ofstream(web_root_ / "assets" / "app-abc123.js") << "console.log('nightjar');";
  // NJ_TEST_POSTGRES=1: the server keeps its data in a PostgreSQL database of its own in the
  // run's throwaway cluster (issue #17), made here and dropped with it.
  if (store::testing::on_postgres()) {
    std::string error;
    const std::string url = store::testing::fresh_database_url(&error);
    if (url.empty()) {
      std::fprintf(stderr, "no PostgreSQL for the test: %s\n", error.c_str());
      std::abort();
    }
    use_postgres(url);
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) stop(SIGKILL);
  std::error_code ec;
  fs::remove_all(root_, ec);
  if (owns_database_) store::testing::drop_database(database_url_);
}

bool ServerProcess::start(std::chrono::milliseconds timeout) {
  // Every listener on a free port, so tests run side by side.
  std::vector<std::string> args = {NJ_BIN_PATH,   "serve", "--data",      data_dir_.string(),
                                   "--http-port", "0",     "--rtsp-port", "0",
                                   "--mqtt-port", "0",     "--web-root",  web_root_.string()};
  // At the end: a table header there ends whatever table the test's own config left open.
  const std::string config_toml =
      config_toml_ +
      (database_url_.empty() ? "" : "\n[database]\nurl = \"" + database_url_ + "\"\n");
  if (!config_toml.empty()) {
    const auto config = root_ / "nightjar.toml";
    std::ofstream(config) << config_toml;
    args.push_back("--config");
    args.push_back(config.string());
  }
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  // One left by a run that was killed must not be taken for this run's.
  std::error_code ignored;
  std::filesystem::remove(data_dir_ / "ports.json", ignored);
  std::vector<char*> env;
  for (char** e = environ; *e; ++e) env.push_back(*e);
  for (auto& e : extra_env_) env.push_back(e.data());
  env.push_back(nullptr);
  const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(data_dir_ / "ports.json");
    if (in) {
      auto ports = nlohmann::json::parse(in, nullptr, false);
      if (ports.is_object() && ports.contains("http")) {
        http_port_ = ports["http"].get<uint16_t>();
        rtsp_port_ = ports.value("rtsp", uint16_t{0});
        return true;
      }
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::ofstream(log_file_, std::ios::app)
          << "--- exited before it was ready: " << decode_status(status) << "\n";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Still running but not ready: where it is stuck goes into its log, for the failure
  // message (and CI's output) to show.
  if (::access("/usr/bin/gdb", X_OK) == 0) {
    std::system(("echo '--- not ready in time; its threads:' >> '" + log_file_.string() +
                 "'; /usr/bin/gdb -p " + std::to_string(pid_) +
                 " -batch -ex 'thread apply all bt' >> '" + log_file_.string() + "' 2>&1")
                    .c_str());
  }
  return false;
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return decode_status(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

int ServerProcess::stop(int signal) {
  if (pid_ <= 0) return -1000;
  ::kill(pid_, signal);
  if (auto code = wait_exit(std::chrono::seconds(10))) return *code;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return -2000;  // did not stop in time
}

std::string ServerProcess::log() const {
  std::stringstream s;
  s << std::ifstream(log_file_).rdbuf();
  return s.str();
}

BackgroundCommand::BackgroundCommand(const std::string& command) {
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);  // its own group: kill it whole
  posix_spawnattr_setpgroup(&attr, 0);
  if (posix_spawn(&pid_, "/bin/sh", nullptr, &attr, const_cast<char**>(argv), environ) != 0) {
    pid_ = -1;
  }
  posix_spawnattr_destroy(&attr);
}

BackgroundCommand::~BackgroundCommand() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(-pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

bool BackgroundCommand::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  return ::waitpid(pid_, &status, WNOHANG) == 0;
}

std::string sh_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string camera_binary() {
  return (std::filesystem::path(NJ_BIN_PATH).parent_path() / "nightjar-cam").string();
}

void add_device(ServerProcess& server, const std::string& serial, const std::string& model,
                const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  auto secret = server.admin("device add --serial " + serial + " --model " + model);
  while (!secret.empty() && secret.back() == '\n') secret.pop_back();
  std::ofstream(dir / "secret") << secret << "\n";
}

std::string run_command(const std::string& command, int* status) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int rc = ::pclose(pipe);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

long ServerProcess::rss_kb() const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  }
  return 0;
}

std::string ServerProcess::admin(const std::string& args, int* status) const {
  const std::string database = database_url_.empty() ? "" : "--database " + database_url_ + " ";
  return run_command(std::string(NJ_BIN_PATH) + " admin --data " + sh_quote(data_dir_.string()) +
                         " " + database + admin_options_ + " " + args,
                     status);
}

std::string ServerProcess::sql(const std::string& statement) const {
  if (database_url_.empty()) {
    return run_command("sqlite3 -batch " + sh_quote((data_dir_ / "nightjar.db").string()) + " " +
                       sh_quote(statement));
  }
  // Unaligned, rows only, as sqlite3 prints them: fields joined by '|', one row a line.
  return run_command("psql -X -q -A -t " + sh_quote(database_url_) + " -c " + sh_quote(statement));
}

std::string ServerProcess::dump_database() const {
  if (database_url_.empty()) {
    return run_command("sqlite3 " + sh_quote((data_dir_ / "nightjar.db").string()) + " .dump");
  }
  return run_command("pg_dump --no-owner " + sh_quote(database_url_));
}

bool ServerProcess::backup_database(const std::filesystem::path& to) const {
  int status = -1;
  if (database_url_.empty()) {
    run_command("sqlite3 " + sh_quote((data_dir_ / "nightjar.db").string()) + " " +
                    sh_quote(".backup '" + to.string() + "'"),
                &status);
  } else {
    run_command("pg_dump -Fc -f " + sh_quote(to.string()) + " " + sh_quote(database_url_), &status);
  }
  return status == 0 && fs::exists(to);
}

bool ServerProcess::restore_database(const std::filesystem::path& from) {
  if (pid_ > 0) return false;
  if (database_url_.empty()) {
    std::error_code ec;
    fs::remove(data_dir_ / "nightjar.db-wal", ec);
    fs::remove(data_dir_ / "nightjar.db-shm", ec);
    return fs::copy_file(from, data_dir_ / "nightjar.db", fs::copy_options::overwrite_existing, ec);
  }
  store::testing::drop_database(database_url_);
  if (!store::testing::create_database(database_url_)) return false;
  int status = -1;
  run_command("pg_restore --no-owner -d " + sh_quote(database_url_) + " " + sh_quote(from.string()),
              &status);
  return status == 0;
}

void ServerProcess::use_postgres(const std::string& url) {
  if (owns_database_ && url != database_url_) store::testing::drop_database(database_url_);
  database_url_ = url;
  owns_database_ = true;
}

void ServerProcess::share_database_of(const ServerProcess& other) {
  if (owns_database_ && other.database_url_ != database_url_) {
    store::testing::drop_database(database_url_);
  }
  database_url_ = other.database_url_;
  owns_database_ = false;
}

std::unique_ptr<store::Database> ServerProcess::open_database() const {
  if (database_url_.empty()) {
    auto db = store::open_sqlite(data_dir_ / "nightjar.db");
    return db ? std::move(db).value() : nullptr;
  }
  auto db = store::open_postgres(database_url_, {.pool_size = 1});
  return db ? std::move(db).value() : nullptr;
}

HttpResult ServerProcess::request(const std::string& method, const std::string& target,
                                  const std::map<std::string, std::string>& headers,
                                  const std::string& body) const {
  HttpResult result;
  asio::io_context io;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        beast::tcp_stream stream(io);
        stream.expires_after(std::chrono::seconds(10));
        auto [ec] = co_await stream.async_connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), http_port_), use_tuple);
        if (ec) co_return;
        bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
        req.set(bhttp::field::host, "127.0.0.1");
        for (const auto& [k, v] : headers) req.set(k, v);
        req.body() = body;
        if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT") {
          req.prepare_payload();
        }
        auto [wec, wn] = co_await bhttp::async_write(stream, req, use_tuple);
        if (wec) co_return;
        beast::flat_buffer buffer;
        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        parser.skip(method == "HEAD");
        auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
        if (rec) co_return;
        auto& res = parser.get();
        result.status = res.result_int();
        for (const auto& f : res) {
          const auto name = lower(std::string(f.name_string()));
          result.headers[name] = f.value();
          if (name == "set-cookie") result.set_cookies.emplace_back(f.value());
        }
        result.body = std::move(res.body());
      },
      asio::detached);
  io.run();
  return result;
}

RawConnection::RawConnection(uint16_t port, int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (receive_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(const std::string& bytes) {
  if (fd_ < 0) return false;
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

std::string RawConnection::read_all(std::chrono::milliseconds timeout) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (fd_ >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string RawConnection::read_until(const std::string& until, std::chrono::milliseconds timeout) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (fd_ >= 0 && out.find(until) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

bool RawConnection::closed_within(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (fd_ >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return true;  // EOF or reset
  }
  return true;
}

struct WsClient::Impl {
  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws{io};
  beast::flat_buffer buffer;
  // A read outlives a receive() that timed out: the next receive() waits on for it, so a
  // quiet spell ("nothing arrives") leaves the connection usable.
  bool reading = false, done = false;
  bool closed = false;  // a read failed: the connection is over
  std::optional<std::string> message;
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}
WsClient::~WsClient() = default;

int WsClient::connect(uint16_t port, const std::string& target,
                      const std::map<std::string, std::string>& headers) {
  int status = 0;
  impl_->ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [name, value] : headers) req.set(name, value);
  }));
  asio::co_spawn(
      impl_->io,
      [&]() -> asio::awaitable<void> {
        auto& layer = beast::get_lowest_layer(impl_->ws);
        layer.expires_after(std::chrono::seconds(5));
        auto [ec] = co_await layer.async_connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), use_tuple);
        if (ec) co_return;
        websocket::response_type res;
        auto [hec] = co_await impl_->ws.async_handshake(res, "127.0.0.1", target, use_tuple);
        // A refused upgrade is an error with the server's HTTP answer in res.
        status = (hec && res.result_int() == 101) ? 0 : static_cast<int>(res.result_int());
        layer.expires_never();
      },
      asio::detached);
  impl_->io.run();
  impl_->io.restart();
  return status;
}

bool WsClient::send_text(const std::string& text) { return send(text, false); }

bool WsClient::send(const std::string& data, bool binary) {
  bool ok = false, written = false;
  impl_->ws.text(!binary);
  asio::co_spawn(
      impl_->io,
      [&]() -> asio::awaitable<void> {
        auto [ec, n] = co_await impl_->ws.async_write(asio::buffer(data), use_tuple);
        ok = !ec;
        written = true;
      },
      asio::detached);
  // Only until the write is done: a read may be pending (it keeps what it gets).
  while (!written && impl_->io.run_one() > 0) {
  }
  impl_->io.restart();
  return ok;
}

std::optional<std::string> WsClient::receive(std::chrono::milliseconds timeout) {
  Impl& i = *impl_;
  if (!i.reading) {
    i.reading = true;
    i.done = false;
    i.message.reset();
    asio::co_spawn(
        i.io,
        [&i]() -> asio::awaitable<void> {
          auto [ec, n] = co_await i.ws.async_read(i.buffer, use_tuple);
          i.done = true;
          if (ec) {
            i.closed = true;
            co_return;
          }
          i.message = beast::buffers_to_string(i.buffer.data());
          i.buffer.consume(i.buffer.size());
        },
        asio::detached);
  }
  i.io.run_for(timeout);
  i.io.restart();
  if (!i.done) return std::nullopt;  // nothing yet; the read goes on
  i.reading = false;
  return std::move(i.message);
}

bool WsClient::closed() const { return impl_->closed; }

HttpResult call_as(const ServerProcess& server, const std::string& bearer,
                   const std::string& method, const std::string& path, const nlohmann::json& body) {
  std::map<std::string, std::string> h = {{"Authorization", "Bearer " + bearer}};
  if (!body.is_null()) h["Content-Type"] = "application/json";
  return server.request(method, path, h, body.is_null() ? "" : body.dump());
}

std::string add_device(const ServerProcess& server, const std::string& serial) {
  auto secret = server.admin("device add --serial " + serial + " --model NJ-Sim");
  while (!secret.empty() && secret.back() == '\n') secret.pop_back();
  EXPECT_EQ(secret.size(), 32u) << secret;
  return secret;
}

std::string bind_by_label(const ServerProcess& server, const std::string& serial,
                          const std::string& bearer) {
  const auto label =
      nlohmann::json::parse(server.admin("device label --serial " + serial), nullptr, false);
  if (!label.is_object() || !label.contains("pairing_code")) {
    ADD_FAILURE() << "no label for " << serial;
    return "";
  }
  auto added = call_as(server, bearer, "POST", "/api/v1/devices",
                       {{"serial", serial}, {"pairing_code", label["pairing_code"]}});
  EXPECT_EQ(added.status, 201) << added.body;
  const auto j = added.json();
  return j.is_object() && j.contains("id") && j["id"].is_string() ? j["id"].get<std::string>()
                                                                  : std::string();
}

int64_t parse_rfc3339_ms(const nlohmann::json& t) {
  if (!t.is_string()) return 0;
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(t.get_ref<const std::string&>().c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year,
                  &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

// The password sign_up gives an account, so sign_in can sign in again.
static std::string passphrase_of(const std::string& email) {
  return "a long passphrase for " + email;
}

std::string sign_up(const ServerProcess& server, const std::string& email,
                    const std::string& region) {
  using nlohmann::json;
  const std::string password = passphrase_of(email);
  const std::string policy = server.get("/api/v1/policy").json().value("version", "");
  json form{
      {"email", email}, {"password", password}, {"language", "en"}, {"policy_version", policy}};
  if (!region.empty()) form["region"] = region;
  auto r = server.request("POST", "/api/v1/auth/register", {{"Content-Type", "application/json"}},
                          form.dump());
  EXPECT_EQ(r.status, 202) << r.body;
  std::string token;
  std::stringstream lines(server.admin("outbox"));
  for (std::string line; std::getline(lines, line);) {
    auto mail = json::parse(line, nullptr, false);
    if (!mail.is_object() || mail.value("to", "") != email) continue;
    const std::string body = mail.value("body", "");
    const auto at = body.find("token=");
    if (at != std::string::npos) {
      token = body.substr(at + 6, body.find_first_of(" \n\r", at + 6) - at - 6);
    }
  }
  EXPECT_FALSE(token.empty());
  r = server.request("POST", "/api/v1/auth/verify", {{"Content-Type", "application/json"}},
                     json{{"token", token}}.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  return sign_in(server, email);
}

std::string sign_in(const ServerProcess& server, const std::string& email) {
  using nlohmann::json;
  const auto r =
      server.request("POST", "/api/v1/auth/login", {{"Content-Type", "application/json"}},
                     json{{"email", email}, {"password", passphrase_of(email)}}.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  return r.json().value("token", "");
}

}  // namespace nj::testing
