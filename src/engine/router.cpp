#include "engine/router.hpp"

namespace herald::engine {

void Router::Add(const std::string& channel, channels::Connector* connector) {
  routes_[channel].push_back(connector);
}

const std::vector<channels::Connector*>& Router::For(std::string_view channel) const {
  static const std::vector<channels::Connector*> kNone;
  auto it = routes_.find(channel);
  return it == routes_.end() ? kNone : it->second;
}

channels::Connector* Router::ByName(std::string_view name) const {
  for (const auto& [channel, list] : routes_) {
    for (auto* c : list) {
      if (c->name() == name) return c;
    }
  }
  return nullptr;
}

}  // namespace herald::engine
