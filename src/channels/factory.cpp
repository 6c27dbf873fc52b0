#include "channels/factory.hpp"

#include "channels/simulator/simulator.hpp"
#include "channels/smpp/smpp_connector.hpp"
// --- HTTP connectors and pacing (issue 5) ---
#include "channels/http/messenger.hpp"
#include "channels/http/rbm.hpp"
#include "channels/http/viber.hpp"
#include "channels/http/vonage.hpp"
#include "channels/http/whatsapp.hpp"
#include "channels/kannel/kannel.hpp"
#include "channels/pacing/pacing.hpp"

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
      // --- HTTP connectors (issue 5): each type's own keys; the pacing keys are added below.
      {"kannel", kannel::KannelKeys()},
      {"whatsapp", http::WhatsAppKeys()},
      {"rbm", http::RbmKeys()},
      {"vonage", http::VonageKeys()},
      {"messenger", http::MessengerKeys()},
      {"viber", http::ViberKeys()},
  };
  return types;
}

// The pacing keys, which every type accepts (channels/pacing/pacing.hpp).
bool IsPacingKey(std::string_view key) {
  for (auto k : pacing::PacingKeys()) {
    if (k == key) return true;
  }
  return false;
}

// The type-specific checks beyond key names: values, required keys, secrets.
Result<void> ValidateTypeValues(const std::string& name, const std::string& type,
                                const toml::table& settings) {
  HERALD_RETURN_IF_ERROR(pacing::ParsePacingConfig(name, settings));
  if (type == "kannel") HERALD_RETURN_IF_ERROR(kannel::ParseKannelConfig(name, settings));
  if (type == "whatsapp") HERALD_RETURN_IF_ERROR(http::ParseWhatsAppConfig(name, settings));
  if (type == "rbm") HERALD_RETURN_IF_ERROR(http::ParseRbmConfig(name, settings));
  if (type == "vonage") HERALD_RETURN_IF_ERROR(http::ParseVonageConfig(name, settings));
  if (type == "messenger") HERALD_RETURN_IF_ERROR(http::ParseMessengerConfig(name, settings));
  if (type == "viber") HERALD_RETURN_IF_ERROR(http::ParseViberConfig(name, settings));
  if (type == "smpp") HERALD_RETURN_IF_ERROR(smpp::ParseConfig(name, settings));
  return {};
}

// Wraps `made` in a PacedConnector when its settings ask for pacing.
Result<std::unique_ptr<Connector>> WithPacing(const std::string& name, const toml::table& settings,
                                              const ConnectorContext& context,
                                              std::unique_ptr<Connector> made) {
  HERALD_ASSIGN_OR_RETURN(auto config, pacing::ParsePacingConfig(name, settings));
  if (!config.enabled()) return std::move(made);
  const Clock& clock = context.clock != nullptr ? *context.clock : SystemClock::Instance();
  return std::unique_ptr<Connector>(
      std::make_unique<pacing::PacedConnector>(std::move(made), config, clock));
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
      bool allowed = key.str() == "type" || IsPacingKey(key.str());
      for (auto k : t.keys) allowed = allowed || k == key.str();
      if (!allowed) {
        return tl::make_unexpected(
            SettingError(name, std::string(key.str()), "unknown key for a " + *type + " connector"));
      }
    }
    return ValidateTypeValues(name, *type, settings);
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
    return WithPacing(name, settings, context,
                      std::make_unique<simulator::Simulator>(name, context.simulator_rules));
  }
  // --- HTTP connectors (issue 5) ---
  if (type == "kannel") {
    HERALD_ASSIGN_OR_RETURN(auto config, kannel::ParseKannelConfig(name, settings));
    return WithPacing(name, settings, context,
                      std::make_unique<kannel::KannelConnector>(name, std::move(config), context));
  }
  if (type == "whatsapp") {
    HERALD_ASSIGN_OR_RETURN(auto config, http::ParseWhatsAppConfig(name, settings));
    return WithPacing(name, settings, context,
                      std::make_unique<http::WhatsAppConnector>(name, std::move(config), context));
  }
  if (type == "rbm") {
    HERALD_ASSIGN_OR_RETURN(auto config, http::ParseRbmConfig(name, settings));
    return WithPacing(name, settings, context,
                      std::make_unique<http::RbmConnector>(name, std::move(config), context));
  }
  if (type == "vonage") {
    HERALD_ASSIGN_OR_RETURN(auto config, http::ParseVonageConfig(name, settings));
    return WithPacing(name, settings, context,
                      std::make_unique<http::VonageConnector>(name, std::move(config), context));
  }
  if (type == "messenger") {
    HERALD_ASSIGN_OR_RETURN(auto config, http::ParseMessengerConfig(name, settings));
    return WithPacing(name, settings, context,
                      std::make_unique<http::MessengerConnector>(name, std::move(config), context));
  }
  if (type == "viber") {
    HERALD_ASSIGN_OR_RETURN(auto config, http::ParseViberConfig(name, settings));
    return WithPacing(name, settings, context,
                      std::make_unique<http::ViberConnector>(name, std::move(config), context));
  }
  if (type == "smpp") {
    HERALD_ASSIGN_OR_RETURN(auto config, smpp::ParseConfig(name, settings));
    return WithPacing(name, settings, context,
                      std::make_unique<smpp::SmppConnector>(name, std::move(config), context));
  }
  return tl::make_unexpected(SettingError(name, "type", "unknown type \"" + type + "\""));
}

}  // namespace herald::channels
