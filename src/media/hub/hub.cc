#include "media/hub/hub.h"

#include <algorithm>

namespace nj::media::hub {

void SubscriberQueue::push(const FramePtr& frame) {
  bool was_empty;
  {
    std::lock_guard lock(mu_);
    if (waiting_for_keyframe_) {
      if (!(frame->keyframe && frame->track == TrackKind::kVideo)) {
        ++dropped_;
        return;
      }
      waiting_for_keyframe_ = false;
    }
    if (frames_.size() >= limits_.max_frames || bytes_ + frame->data.size() > limits_.max_bytes) {
      // Too far behind: drop what is queued and start again at the next keyframe (or at
      // this one), rather than hold the publisher or grow without bound.
      dropped_ += frames_.size();
      frames_.clear();
      bytes_ = 0;
      ++skips_;
      if (!(frame->keyframe && frame->track == TrackKind::kVideo)) {
        waiting_for_keyframe_ = true;
        ++dropped_;
        return;
      }
    }
    was_empty = frames_.empty();
    frames_.push_back(frame);
    bytes_ += frame->data.size();
  }
  if (was_empty && wake_) wake_();
}

size_t SubscriberQueue::drain(std::vector<FramePtr>& out) {
  std::lock_guard lock(mu_);
  const size_t n = frames_.size();
  out.insert(out.end(), std::make_move_iterator(frames_.begin()),
             std::make_move_iterator(frames_.end()));
  frames_.clear();
  bytes_ = 0;
  return n;
}

uint64_t SubscriberQueue::dropped_frames() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void SubscriberQueue::end() {
  {
    std::lock_guard lock(mu_);
    ended_ = true;
  }
  if (wake_) wake_();
}

bool SubscriberQueue::ended() const {
  std::lock_guard lock(mu_);
  return ended_;
}

uint64_t SubscriberQueue::skips() const {
  std::lock_guard lock(mu_);
  return skips_;
}

bool Stream::publish(const FramePtr& frame) {
  std::lock_guard lock(mu);
  if (!live) return false;  // evicted: nobody may receive it any more
  // The GOP cache: reset at every video keyframe; stop caching (until the next keyframe)
  // if a GOP grows past its limit.
  if (frame->track == TrackKind::kVideo && frame->keyframe) {
    gop.clear();
    gop_bytes = 0;
    gop_overflow = false;
  }
  if (!gop_overflow && (!gop.empty() || (frame->track == TrackKind::kVideo && frame->keyframe))) {
    if (gop_bytes + frame->data.size() > limits.gop_cache_max_bytes) {
      gop.clear();
      gop_bytes = 0;
      gop_overflow = true;
    } else {
      gop.push_back(frame);
      gop_bytes += frame->data.size();
    }
  }
  for (size_t k = 0; k < kPackagingKinds; ++k) {
    if (packagers[k]) frame->packaged_forms[k] = packagers[k]->package(*frame, info);
  }
  for (const auto& q : subscribers) q->push(frame);
  return true;
}

Publisher::~Publisher() { hub_.on_unpublish(path_, stream_); }

bool Publisher::publish(const FramePtr& frame) { return stream_->publish(frame); }

bool Publisher::evicted() const {
  std::lock_guard lock(stream_->mu);
  return !stream_->live;
}

void Publisher::update_info(StreamInfo info) {
  std::lock_guard lock(stream_->mu);
  stream_->info = std::move(info);
}

Subscription::~Subscription() { hub_.on_unsubscribe(path_, *stream_, queue_.get()); }

Result<std::unique_ptr<Publisher>, Error> Hub::publish(const std::string& path, StreamInfo info) {
  auto stream = std::make_shared<Stream>(limits_);
  stream->info = std::move(info);
  {
    std::lock_guard lock(mu_);
    if (streams_.contains(path)) return Unexpected(Error::kAlreadyPublished);
    streams_.emplace(path, stream);
  }
  // Events run outside the hub's lock, so a listener may call back into the hub.
  if (events_.published) events_.published(path);
  return std::unique_ptr<Publisher>(new Publisher(*this, path, std::move(stream)));
}

Result<std::unique_ptr<Subscription>, Error> Hub::subscribe(const std::string& path,
                                                            std::function<void()> wake,
                                                            Packaging packaging,
                                                            std::optional<QueueLimits> limits) {
  const bool packaged = packaging != Packaging::kNone;
  const size_t kind = packaged ? packaging_index(packaging) : 0;
  if (packaged && !packager_factories_[kind]) return Unexpected(Error::kNotFound);
  std::shared_ptr<Stream> stream;
  {
    std::lock_guard lock(mu_);
    const auto it = streams_.find(path);
    if (it == streams_.end()) return Unexpected(Error::kNotFound);
    stream = it->second;
  }
  auto queue = std::make_shared<SubscriberQueue>(limits.value_or(limits_.queue), std::move(wake));
  StreamInfo info;
  size_t count;
  {
    std::lock_guard lock(stream->mu);
    if (!stream->live) return Unexpected(Error::kNotFound);
    if (stream->subscribers.size() >= limits_.max_subscribers_per_stream) {
      return Unexpected(Error::kTooManySubscribers);
    }
    if (packaged && !stream->packagers[kind]) {
      // The first subscriber that wants this form: package the cached GOP now, as its
      // frames go first into this queue (later ones are packaged as they come).
      stream->packagers[kind] = packager_factories_[kind]();
      for (const auto& f : stream->gop) {
        f->packaged_forms[kind] = stream->packagers[kind]->package(*f, stream->info);
      }
    }
    if (packaged) ++stream->packaged_subscribers[kind];
    queue->set_packaging(packaging);
    // Start at the cached keyframe: the GOP goes in first, under the same lock as new
    // frames, so nothing is missed or doubled.
    for (const auto& f : stream->gop) queue->push(f);
    stream->subscribers.push_back(queue);
    info = stream->info;
    count = stream->subscribers.size();
  }
  if (events_.subscribers_changed) events_.subscribers_changed(path, count);
  return std::unique_ptr<Subscription>(
      new Subscription(*this, path, std::move(stream), std::move(queue), std::move(info)));
}

bool Hub::evict(const std::string& path) {
  std::shared_ptr<Stream> stream;
  {
    std::lock_guard lock(mu_);
    const auto it = streams_.find(path);
    if (it == streams_.end()) return false;
    stream = it->second;
  }
  on_unpublish(path, stream);
  return true;
}

void Hub::on_unpublish(const std::string& path, const std::shared_ptr<Stream>& stream) {
  std::vector<std::shared_ptr<SubscriberQueue>> subscribers;
  {
    std::lock_guard lock(stream->mu);
    if (!stream->live) return;  // evicted before its publisher left
    stream->live = false;
    stream->gop.clear();
    subscribers = stream->subscribers;
  }
  for (const auto& queue : subscribers) queue->end();  // outside the lock: wake may post
  {
    std::lock_guard lock(mu_);
    const auto it = streams_.find(path);
    if (it != streams_.end() && it->second == stream) streams_.erase(it);
  }
  if (events_.gone) events_.gone(path);
}

void Hub::on_unsubscribe(const std::string& path, Stream& stream, const SubscriberQueue* queue) {
  size_t count;
  {
    std::lock_guard lock(stream.mu);
    std::erase_if(stream.subscribers, [&](const auto& q) { return q.get() == queue; });
    if (queue->packaging() != Packaging::kNone) {
      const size_t kind = packaging_index(queue->packaging());
      if (--stream.packaged_subscribers[kind] == 0) stream.packagers[kind].reset();
    }
    count = stream.subscribers.size();
  }
  if (events_.subscribers_changed) events_.subscribers_changed(path, count);
}

bool Hub::is_published(const std::string& path) const {
  std::lock_guard lock(mu_);
  return streams_.contains(path);
}

size_t Hub::subscriber_count(const std::string& path) const {
  std::shared_ptr<Stream> stream;
  {
    std::lock_guard lock(mu_);
    const auto it = streams_.find(path);
    if (it == streams_.end()) return 0;
    stream = it->second;
  }
  std::lock_guard lock(stream->mu);
  return stream->subscribers.size();
}

size_t Hub::stream_count() const {
  std::lock_guard lock(mu_);
  return streams_.size();
}

}  // namespace nj::media::hub
