// Builds the connectors named in herald.toml ([connectors.NAME], docs/configuration.md).
// Each connector type validates its own settings table here, so a bad key is reported at
// start-up with its path, never at the first send.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <toml++/toml.h>

#include "channels/connector.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"

namespace herald::net {
class HttpClient;
}
namespace herald::channels::simulator {
class SimulatorRules;
}

namespace herald::channels {

// What a connector may use. Pointers are not owned and outlive every connector.
struct ConnectorContext {
  boost::asio::any_io_executor executor;
  net::HttpClient* http = nullptr;                // outbound HTTP (HTTP platforms, Kannel)
  ProviderEventSink* sink = nullptr;              // receipts and inbound messages
  std::shared_ptr<simulator::SimulatorRules> simulator_rules;
  const Clock* clock = nullptr;
  // Where providers reach this Herald ("http://127.0.0.1:8080"): callback URLs a connector
  // hands to its provider (Kannel's dlr-url) are public_base_url() + "/providers/NAME/...".
  // A function because the listening port is known only once the server has bound it.
  std::function<std::string()> public_base_url;
};

// Checks [connectors.NAME] (`type` and that type's keys) without building anything.
// Errors name the key: "connectors.NAME.window: must be an integer between 1 and 1024".
Result<void> ValidateConnectorSettings(const std::string& name, const toml::table& settings);

// Builds connector NAME from its (validated) settings.
Result<std::unique_ptr<Connector>> MakeConnector(const std::string& name,
                                                 const toml::table& settings,
                                                 const ConnectorContext& context);

}  // namespace herald::channels
