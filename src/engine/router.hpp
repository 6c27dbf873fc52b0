// Router: which connectors may carry a channel, in the order they are tried (provider
// failover, architecture.md §6). Built once at start from [routes]; read-only afterwards, so
// safe to share between strands.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "channels/connector.hpp"

namespace herald::engine {

class Router {
 public:
  // Appends `connector` (not owned; must outlive the router) to `channel`'s list.
  void Add(const std::string& channel, channels::Connector* connector);
  // The channel's connectors in order; empty if none is configured.
  const std::vector<channels::Connector*>& For(std::string_view channel) const;
  // Makes a connector findable by name even when no channel routes to it (callbacks).
  void Register(channels::Connector* connector);
  channels::Connector* ByName(std::string_view name) const;

 private:
  std::map<std::string, std::vector<channels::Connector*>, std::less<>> routes_;
  std::map<std::string, channels::Connector*, std::less<>> by_name_;
};

}  // namespace herald::engine
