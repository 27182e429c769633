// The live coordination sessions of a server, by id. Each entry has its own lock and a `busy`
// flag: a turn holds the flag (not the lock) while its agents generate, so reads go on and a
// second turn of the same session is refused instead of interleaving.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "coordination/session.h"

namespace semantic::coordination {

struct SessionEntry {
  std::mutex mu;
  Session session;
  bool busy = false;  // a turn or round is generating
  explicit SessionEntry(Session s) : session(std::move(s)) {}
};

class Registry {
 public:
  static constexpr size_t kMaxSessions = 256;

  // nullptr when kMaxSessions sessions exist.
  std::shared_ptr<SessionEntry> Create(SessionSpec spec, int64_t now_ms);
  std::shared_ptr<SessionEntry> Get(const std::string& id) const;
  std::vector<std::shared_ptr<SessionEntry>> List() const;  // in creation order
  std::shared_ptr<SessionEntry> Remove(const std::string& id);

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<SessionEntry>> sessions_;
};

}  // namespace semantic::coordination
