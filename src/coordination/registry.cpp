// Registry: session ids "coord_<12 hex>".
#include "coordination/registry.h"

#include <cstdio>
#include <random>

namespace semantic::coordination {

namespace {

std::string NewSessionId() {
  static std::mt19937_64 rng{std::random_device{}()};
  char buf[32];
  std::snprintf(buf, sizeof(buf), "coord_%012llx",
                static_cast<unsigned long long>(rng() & 0xFFFFFFFFFFFFull));
  return buf;
}

}  // namespace

std::shared_ptr<SessionEntry> Registry::Create(SessionSpec spec, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (sessions_.size() >= kMaxSessions) return nullptr;
  std::string id;
  do {
    id = NewSessionId();
  } while ([&] {
    for (const auto& e : sessions_)
      if (e->session.id() == id) return true;
    return false;
  }());
  sessions_.push_back(std::make_shared<SessionEntry>(Session(id, std::move(spec), now_ms)));
  return sessions_.back();
}

std::shared_ptr<SessionEntry> Registry::Get(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& e : sessions_)
    if (e->session.id() == id) return e;
  return nullptr;
}

std::vector<std::shared_ptr<SessionEntry>> Registry::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_;
}

std::shared_ptr<SessionEntry> Registry::Remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if ((*it)->session.id() == id) {
      auto e = *it;
      sessions_.erase(it);
      return e;
    }
  }
  return nullptr;
}

}  // namespace semantic::coordination
