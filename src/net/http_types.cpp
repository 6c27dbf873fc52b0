#include "net/http_types.hpp"

namespace herald::net {

namespace {
// RFC 9112 §3.2.2: a server must accept the absolute form ("http://host/path") too.
std::string_view OriginForm(std::string_view t) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (t.substr(0, scheme.size()) == scheme) {
      auto slash = t.find('/', scheme.size());
      return slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
    }
  }
  return t;
}
}  // namespace

std::string_view HttpRequest::path() const {
  std::string_view t = OriginForm(target);
  return t.substr(0, t.find('?'));
}

std::string_view HttpRequest::query() const {
  std::string_view t = OriginForm(target);
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

std::string_view HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

bool HttpRequest::HasHeader(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return true;
  }
  return false;
}

}  // namespace herald::net
