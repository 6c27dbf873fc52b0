#include "channels/factory.hpp"

#include "channels/simulator/simulator.hpp"
#include "channels/smpp/smpp_connector.hpp"

namespace herald::channels {

namespace {

Error SettingError(const std::string& name, const std::string& key, const std::string& what) {
  Error e;
  e.code = Errc::kInvalidArgument;
  e.message = "connectors." + name + (key.empty() ? "" : "." + key) + ": " + what;
  return e;
}

// The connector types and, per type, the keys its table may hold.
struct TypeInfo {
  std::string_view type;
  std::vector<std::string_view> keys;
};
const std::vector<TypeInfo>& Types() {
  static const std::vector<TypeInfo> types = {
      {"simulator", {"type"}},
      {"smpp", smpp::ConfigKeys()},
  };
  return types;
}

}  // namespace

Result<void> ValidateConnectorSettings(const std::string& name, const toml::table& settings) {
  const toml::node* type_node = settings.get("type");
  auto type = type_node ? type_node->value<std::string>() : std::nullopt;
  std::string known;
  for (const auto& t : Types()) known += (known.empty() ? "\"" : ", \"") + std::string(t.type) + "\"";
  if (!type) return tl::make_unexpected(SettingError(name, "type", "is required (one of " + known + ")"));
  for (const auto& t : Types()) {
    if (t.type != *type) continue;
    for (auto&& [key, node] : settings) {
      (void)node;
      bool allowed = false;
      for (auto k : t.keys) allowed = allowed || k == key.str();
      if (!allowed) {
        return tl::make_unexpected(
            SettingError(name, std::string(key.str()), "unknown key for a " + *type + " connector"));
      }
    }
    if (*type == "smpp") {
      HERALD_RETURN_IF_ERROR(smpp::ParseConfig(name, settings));
    }
    return {};
  }
  return tl::make_unexpected(SettingError(name, "type", "unknown type \"" + *type + "\" (one of " +
                                                            known + ")"));
}

Result<std::unique_ptr<Connector>> MakeConnector(const std::string& name,
                                                 const toml::table& settings,
                                                 const ConnectorContext& context) {
  HERALD_RETURN_IF_ERROR(ValidateConnectorSettings(name, settings));
  const std::string type = settings.get("type")->value<std::string>().value_or("");
  if (type == "simulator") {
    return std::unique_ptr<Connector>(
        std::make_unique<simulator::Simulator>(name, context.simulator_rules));
  }
  if (type == "smpp") {
    HERALD_ASSIGN_OR_RETURN(auto config, smpp::ParseConfig(name, settings));
    return std::unique_ptr<Connector>(
        std::make_unique<smpp::SmppConnector>(name, std::move(config), context));
  }
  return tl::make_unexpected(SettingError(name, "type", "unknown type \"" + type + "\""));
}

}  // namespace herald::channels
