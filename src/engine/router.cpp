#include "engine/router.hpp"

namespace herald::engine {

void Router::Add(const std::string& channel, channels::Connector* connector) {
  routes_[channel].push_back(connector);
  by_name_[connector->name()] = connector;
}

void Router::Register(channels::Connector* connector) { by_name_[connector->name()] = connector; }

const std::vector<channels::Connector*>& Router::For(std::string_view channel) const {
  static const std::vector<channels::Connector*> kNone;
  auto it = routes_.find(channel);
  return it == routes_.end() ? kNone : it->second;
}

channels::Connector* Router::ByName(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

}  // namespace herald::engine
