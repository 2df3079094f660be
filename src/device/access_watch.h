// The open connections that hold access to a device's media (live WebSockets, RTSP players
// and pushers, playback of the SD card), so that the moment access ends they end too: a
// share revoked, a camera unbound or re-bound, an account cancelled. Every part that keeps
// a connection open on a right it checked once registers a Hold for it here.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace nj::device {

class AccessWatch {
 public:
  // While a Hold lives, `end` may be called (once, from any thread) when the access behind
  // it ends; it should only post the closing to the connection's own loop. Destroying the
  // Hold (the connection closed) waits for an `end` under way on another thread, so `end`
  // never runs after its Hold is gone (and may destroy the Hold's owner itself).
  class Hold {
   public:
    ~Hold();
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    friend class AccessWatch;
    Hold(AccessWatch& watch, uint64_t id) : watch_(watch), id_(id) {}
    AccessWatch& watch_;
    uint64_t id_;
  };

  // serial: the device; subject: who holds the access (a user id, or the device itself);
  // generation: the device's binding generation the access was given under.
  std::unique_ptr<Hold> hold(std::string serial, std::string subject, int64_t generation,
                             std::function<void()> end);

  // Ends what `subject` holds on the device (a share revoked or changed). Returns how many.
  size_t end_for(const std::string& serial, const std::string& subject);
  // Ends everything held on the device, by anyone (unbound; changed hands).
  size_t end_device(const std::string& serial);
  // Ends everything `subject` holds on any device (an account cancelled).
  size_t end_subject(const std::string& subject);
  // Ends what was given under an earlier binding of the device than `generation` (a binding
  // that changed outside this process, as by `nightjar admin device unbind`).
  size_t end_older(const std::string& serial, int64_t generation);
  size_t open() const;
  // What is held now, as (serial, subject) pairs: for checking again each one's right when
  // changes made elsewhere may have been missed (store::ChangeFeed's resync).
  std::set<std::pair<std::string, std::string>> held() const;

 private:
  struct Entry {
    std::string serial, subject;
    int64_t generation = 0;
    std::function<void()> end;
    bool ending = false;  // its `end` is running, on `ending_on`
    std::thread::id ending_on;
  };
  size_t end_where(const std::function<bool(const Entry&)>& match);
  void release(uint64_t id);

  mutable std::mutex mu_;
  std::condition_variable ended_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Entry> entries_;
};

}  // namespace nj::device
