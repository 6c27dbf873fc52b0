#include "channels/http/meta.hpp"

#include "channels/http/common.hpp"

namespace herald::channels::http {

MetaGate OpenMetaCallback(const net::HttpRequest& r, std::string_view expected_path,
                          const MetaSecrets& secrets) {
  MetaGate gate;
  auto answer = [&gate](net::HttpResponse response) {
    gate.answer = AnswerOnly(std::move(response));
    return std::move(gate);
  };
  if (r.path() != expected_path) return answer(JsonAnswer(404, "No such callback."));
  if (r.method == "GET") {
    auto q = ParseQuery(r.query());
    if (q["hub.mode"] != "subscribe" || secrets.verify_token.empty() ||
        !ConstantTimeEquals(q["hub.verify_token"], secrets.verify_token)) {
      return answer(JsonAnswer(403, "Verification failed."));
    }
    // Echo the challenge only if it is plain (Meta sends digits): no reflected markup.
    const std::string& challenge = q["hub.challenge"];
    for (char c : challenge) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            c == '-' || c == '_')) {
        return answer(JsonAnswer(400, "Bad challenge."));
      }
    }
    if (challenge.empty()) return answer(JsonAnswer(400, "Bad challenge."));
    return answer(net::HttpResponse{200, "text/plain", challenge, {}});
  }
  if (r.method != "POST") return answer(JsonAnswer(405, "Method not allowed."));
  std::string_view signature = r.Header("x-hub-signature-256");
  if (signature.empty()) return answer(JsonAnswer(401, "X-Hub-Signature-256 is required."));
  if (!VerifyHubSignature(signature, r.body, secrets.app_secret)) {
    return answer(JsonAnswer(403, "Bad X-Hub-Signature-256."));
  }
  auto body = ParseObject(r.body);
  if (!body) return answer(JsonAnswer(400, "The body is not a JSON object."));
  gate.body = std::move(*body);
  return gate;
}

std::optional<GraphError> ParseGraphError(std::string_view body) {
  auto o = ParseObject(body);
  if (!o) return std::nullopt;
  const boost::json::object* e = ObjectAt(*o, "error");
  if (e == nullptr) return std::nullopt;
  GraphError g;
  g.code = IntegerAt(*e, "code").value_or(0);
  g.subcode = IntegerAt(*e, "error_subcode").value_or(0);
  g.message = StringAt(*e, "message");
  if (const auto* data = ObjectAt(*e, "error_data")) {
    std::string details = StringAt(*data, "details");
    if (!details.empty()) g.message += (g.message.empty() ? "" : ": ") + details;
  }
  g.message = BodyExcerpt(g.message);
  return g;
}

}  // namespace herald::channels::http
