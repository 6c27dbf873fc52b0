// Google service-account tokens (google_oauth.hpp): the key file, the JWT assertion's claims
// and signature, the token request and answer, and GoogleTokenSource against a local token
// endpoint (net::HttpServer on 127.0.0.1:0) — one refresh shared by concurrent callers, a 401'd
// token replaced once, failures shared and retryable.
#include "channels/http/google_oauth.hpp"

#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include "auth/jwt.hpp"
#include "channels/http/common.hpp"
#include "channels/http/rbm.hpp"
#include "net/http_server.hpp"

namespace herald::channels::http {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

// One 2048-bit key for the whole file (generation takes a while under ASan).
const auth::RsaKeyPair& Keys() {
  static const auth::RsaKeyPair keys = *auth::GenerateRsaKeyPair();
  return keys;
}

ServiceAccountKey Key(std::string token_uri = "https://oauth2.googleapis.com/token") {
  ServiceAccountKey k;
  k.client_email = "herald@project.iam.gserviceaccount.com";
  k.private_key_pem = Keys().private_key_pem;
  k.token_uri = std::move(token_uri);
  return k;
}

std::string KeyJson(json::object o) { return json::serialize(o); }

json::object KeyObject() {
  json::object o;
  o["type"] = "service_account";
  o["project_id"] = "project";
  o["private_key_id"] = "0123abcd";
  o["private_key"] = Keys().private_key_pem;
  o["client_email"] = "herald@project.iam.gserviceaccount.com";
  o["client_id"] = "1234567890";
  o["token_uri"] = "https://oauth2.googleapis.com/token";
  return o;
}

bool VerifyRs256(const std::string& jwt, const std::string& public_pem) {
  const size_t dot = jwt.rfind('.');
  if (dot == std::string::npos) return false;
  auto sig = auth::Base64UrlDecode(std::string_view(jwt).substr(dot + 1));
  if (!sig) return false;
  BIO* bio = BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = key != nullptr && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                             reinterpret_cast<const unsigned char*>(jwt.data()), dot) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

TEST(GoogleOAuthTest, AssertionClaimsAreGooglesServiceAccountClaims) {
  EXPECT_EQ(AssertionClaims(Key(), kRbmScope, 1700000000),
            R"({"iss":"herald@project.iam.gserviceaccount.com",)"
            R"("scope":"https://www.googleapis.com/auth/rcsbusinessmessaging",)"
            R"("aud":"https://oauth2.googleapis.com/token","iat":1700000000,"exp":1700003600})");
}

TEST(GoogleOAuthTest, AssertionIsAnRs256JwtSignedWithTheKey) {
  auto jwt = SignAssertion(Key(), kRbmScope, 1700000000);
  ASSERT_TRUE(jwt);
  const size_t first = jwt->find('.');
  const size_t second = jwt->find('.', first + 1);
  ASSERT_NE(second, std::string::npos);
  EXPECT_EQ(auth::Base64UrlDecode(jwt->substr(0, first)).value_or(""), R"({"alg":"RS256","typ":"JWT"})");
  auto claims = json::parse(auth::Base64UrlDecode(jwt->substr(first + 1, second - first - 1)).value_or("{}"));
  EXPECT_EQ(claims.at("iss"), "herald@project.iam.gserviceaccount.com");
  EXPECT_EQ(claims.at("scope"), "https://www.googleapis.com/auth/rcsbusinessmessaging");
  EXPECT_EQ(claims.at("aud"), "https://oauth2.googleapis.com/token");
  EXPECT_EQ(claims.at("exp").as_int64() - claims.at("iat").as_int64(), 3600);
  EXPECT_TRUE(VerifyRs256(*jwt, Keys().public_key_pem));
  auto other = auth::GenerateRsaKeyPair();
  ASSERT_TRUE(other);
  EXPECT_FALSE(VerifyRs256(*jwt, other->public_key_pem));
}

TEST(GoogleOAuthTest, TokenRequestIsFormEncodedJwtBearerGrant) {
  EXPECT_EQ(TokenRequestBody("aa.bb.c-_"),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=aa.bb.c-_");
}

TEST(GoogleOAuthTest, KeyFileParsedWithPreciseErrorsThatNeverQuoteTheKey) {
  auto key = ParseServiceAccountKey(KeyJson(KeyObject()));
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->client_email, "herald@project.iam.gserviceaccount.com");
  EXPECT_EQ(key->token_uri, "https://oauth2.googleapis.com/token");
  json::object no_uri = KeyObject();
  no_uri.erase("token_uri");
  EXPECT_EQ(ParseServiceAccountKey(KeyJson(no_uri))->token_uri, "https://oauth2.googleapis.com/token");

  EXPECT_EQ(ParseServiceAccountKey("not json").error().message, "is not a JSON object");
  auto without = [](std::string_view field) {
    json::object o = KeyObject();
    o.erase(field);
    return ParseServiceAccountKey(KeyJson(o)).error().message;
  };
  EXPECT_EQ(without("client_email"), "has no client_email");
  EXPECT_EQ(without("private_key"), "has no private_key");
  json::object bad = KeyObject();
  bad["private_key"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  EXPECT_EQ(ParseServiceAccountKey(KeyJson(bad)).error().message,
            "private_key is not a PEM RSA private key");
  bad = KeyObject();
  bad["token_uri"] = "ftp://x";
  EXPECT_EQ(ParseServiceAccountKey(KeyJson(bad)).error().message, "token_uri is not an http(s) URL");
  bad = KeyObject();
  bad["type"] = "authorized_user";
  EXPECT_EQ(ParseServiceAccountKey(KeyJson(bad)).error().message,
            "is not a service-account key (type is not \"service_account\")");
}

TEST(GoogleOAuthTest, TokenAnswerCachedUntilFiveMinutesOrHalfItsLifeBeforeExpiry) {
  net::HttpClientResponse r;
  r.status = 200;
  r.body = R"({"access_token":"ya29.c.abc","expires_in":3599,"token_type":"Bearer"})";
  auto t = ReadTokenResponse(r, 1'000'000);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->token, "ya29.c.abc");
  EXPECT_EQ(t->use_until_ms, 1'000'000 + 3'599'000 - 300'000);
  r.body = R"({"access_token":"short","expires_in":4})";
  EXPECT_EQ(ReadTokenResponse(r, 0)->use_until_ms, 2'000);
  r.body = R"({"access_token":"no-expiry"})";
  EXPECT_EQ(ReadTokenResponse(r, 0)->use_until_ms, 3'300'000);
}

TEST(GoogleOAuthTest, TokenEndpointFailuresAreRetryableAndNeverQuoteATokenOrKey) {
  net::HttpClientResponse r;
  r.failure = net::HttpClientResponse::Failure::kConnect;
  auto e = ReadTokenResponse(r, 0);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, Errc::kUnavailable);
  EXPECT_EQ(e.error().message, "token endpoint unreachable: connect");
  r = {};
  r.status = 503;
  r.retry_after_ms = 7000;
  e = ReadTokenResponse(r, 0);
  EXPECT_EQ(e.error().code, Errc::kUnavailable);
  EXPECT_EQ(e.error().retry_after, std::chrono::milliseconds(7000));
  r = {};
  r.status = 400;
  r.body = R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})";
  e = ReadTokenResponse(r, 0);
  EXPECT_EQ(e.error().code, Errc::kUnavailable);
  EXPECT_EQ(e.error().message, "token endpoint answered HTTP 400 (invalid_grant: Invalid JWT Signature.)");
  r.status = 200;
  r.body = R"({"token_type":"Bearer"})";
  EXPECT_EQ(ReadTokenResponse(r, 0).error().message, "token endpoint answered HTTP 200 without access_token");
}

// ---------------------------------------------------------------- RBM settings

class RbmServiceAccountConfigTest : public ::testing::Test {
 protected:
  ~RbmServiceAccountConfigTest() override {
    for (const auto& f : files_) std::filesystem::remove(f);
  }
  std::string File(const std::string& text) {
    auto p = std::filesystem::temp_directory_path() /
             ("herald-rbm-sa-" + std::to_string(files_.size()) + "-" + std::to_string(::getpid()) + ".json");
    std::ofstream(p) << text;
    files_.push_back(p);
    return p.string();
  }
  static Result<RbmConfig> Parse(const std::string& extra) {
    toml::table t = toml::parse("type = \"rbm\"\nclient_token = \"SJENCPGJESMGUFPY\"\n" + extra);
    return ParseRbmConfig("rbm", t);
  }
  std::vector<std::filesystem::path> files_;
};

TEST_F(RbmServiceAccountConfigTest, ExactlyOneOfAccessTokenAndKeyFile) {
  const std::string path = File(KeyJson(KeyObject()));
  auto c = Parse("service_account_key_file = \"" + path + "\"\n");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(c->service_account);
  EXPECT_TRUE(c->access_token.empty());
  EXPECT_EQ(c->service_account->client_email, "herald@project.iam.gserviceaccount.com");
  EXPECT_TRUE(Parse("access_token = \"ya29.x\"\n"));
  const std::string both_or_none =
      "connectors.rbm.service_account_key_file: give exactly one of access_token and "
      "service_account_key_file";
  EXPECT_EQ(Parse("").error().message, both_or_none);
  EXPECT_EQ(Parse("access_token = \"ya29.x\"\nservice_account_key_file = \"" + path + "\"\n").error().message,
            both_or_none);
}

TEST_F(RbmServiceAccountConfigTest, BadKeyFileIsAStartUpErrorNamingTheKey) {
  EXPECT_EQ(Parse("service_account_key_file = \"/nonexistent/sa.json\"\n").error().message,
            "connectors.rbm.service_account_key_file: cannot be read (/nonexistent/sa.json)");
  const std::string garbage = File("{\"type\":\"service_account\",\"client_email\":\"a@b\",\"private_key\":\"SECRET-NOT-PEM\"}");
  auto e = Parse("service_account_key_file = \"" + garbage + "\"\n");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, "connectors.rbm.service_account_key_file: private_key is not a PEM "
                               "RSA private key (" + garbage + ")");
  EXPECT_EQ(e.error().message.find("SECRET"), std::string::npos);
}

// ---------------------------------------------------------------- GoogleTokenSource

// A token endpoint: answers after `delay_ms` with token "t<n>" (n = request number) living
// `expires_in` seconds, or with `fail_status` when set.
struct TokenEndpoint {
  int requests = 0;
  int fail_status = 0;
  int64_t expires_in = 3600;
  int64_t delay_ms = 50;
  std::vector<std::string> bodies;
  asio::io_context* ioc = nullptr;

  static asio::awaitable<net::HttpResponse> Answer(TokenEndpoint* self, net::HttpRequest r) {
    ++self->requests;
    self->bodies.push_back(r.body);
    asio::steady_timer pause(*self->ioc, std::chrono::milliseconds(self->delay_ms));
    co_await pause.async_wait(asio::use_awaitable);
    if (self->fail_status != 0) {
      co_return net::HttpResponse{self->fail_status, "application/json",
                                  R"({"error":"unavailable"})", {}};
    }
    json::object o;
    o["access_token"] = "t" + std::to_string(self->requests);
    o["expires_in"] = self->expires_in;
    o["token_type"] = "Bearer";
    co_return net::HttpResponse{200, "application/json", json::serialize(o), {}};
  }
};

class GoogleTokenSourceTest : public ::testing::Test {
 protected:
  GoogleTokenSourceTest() {
    endpoint_.ioc = &ioc_;
    net::HttpServerOptions options;
    options.port = 0;
    TokenEndpoint* ep = &endpoint_;
    server_ = std::make_unique<net::HttpServer>(
        ioc_, options, [ep](net::HttpRequest r) { return TokenEndpoint::Answer(ep, std::move(r)); });
    port_ = *server_->Start();
    client_ = std::make_unique<net::HttpClient>(ioc_.get_executor(), net::HttpClientOptions{});
    source_ = std::make_unique<GoogleTokenSource>(
        ioc_.get_executor(), client_.get(), nullptr,
        Key("http://127.0.0.1:" + std::to_string(port_) + "/token"), std::string(kRbmScope), "rbm");
  }
  ~GoogleTokenSourceTest() override {
    client_->Shutdown();
    server_->Stop();
  }

  static asio::awaitable<void> GetInto(GoogleTokenSource* source, std::string refused,
                                       std::optional<Result<std::string>>* out) {
    Result<std::string> r = co_await source->Get(std::move(refused));
    *out = std::move(r);
  }
  // Runs one Get() per entry of `refused` concurrently; returns their results.
  std::vector<Result<std::string>> GetAll(std::vector<std::string> refused) {
    std::vector<std::optional<Result<std::string>>> out(refused.size());
    for (size_t i = 0; i < refused.size(); ++i) {
      asio::co_spawn(ioc_, GetInto(source_.get(), refused[i], &out[i]), [](std::exception_ptr e) {
        if (e) ADD_FAILURE() << "Get() threw";
      });
    }
    RunUntil([&] {
      for (const auto& o : out) {
        if (!o) return false;
      }
      return true;
    });
    std::vector<Result<std::string>> results;
    for (auto& o : out) {
      EXPECT_TRUE(o.has_value());
      results.push_back(o.value_or(MakeError(Errc::kInternal, "did not finish")));
    }
    return results;
  }

  // Runs the io_context (whose server never runs out of work) until `done`, at most 10 s.
  template <class Pred>
  void RunUntil(Pred done) {
    ioc_.restart();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      ioc_.run_one_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(done()) << "timed out";
  }

  asio::io_context ioc_;
  TokenEndpoint endpoint_;
  std::unique_ptr<net::HttpServer> server_;
  uint16_t port_ = 0;
  std::unique_ptr<net::HttpClient> client_;
  std::unique_ptr<GoogleTokenSource> source_;
};

TEST_F(GoogleTokenSourceTest, ConcurrentCallersShareOneRefreshAndTheTokenIsCached) {
  auto results = GetAll({"", "", "", "", ""});
  for (const auto& r : results) EXPECT_EQ(r.value_or("error"), "t1");
  EXPECT_EQ(endpoint_.requests, 1);
  EXPECT_EQ(source_->refreshes(), 1u);
  ASSERT_EQ(endpoint_.bodies.size(), 1u);
  EXPECT_TRUE(endpoint_.bodies[0].starts_with(
      "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="));
  EXPECT_EQ(GetAll({""})[0].value_or("error"), "t1");
  EXPECT_EQ(endpoint_.requests, 1);
}

TEST_F(GoogleTokenSourceTest, RefusedTokenIsReplacedOnceForAllWhoNameIt) {
  EXPECT_EQ(GetAll({""})[0].value_or("error"), "t1");
  auto results = GetAll({"t1", "t1", "t1"});
  for (const auto& r : results) EXPECT_EQ(r.value_or("error"), "t2");
  EXPECT_EQ(endpoint_.requests, 2);
  // A late caller naming the old refused token gets the new one, no third request.
  EXPECT_EQ(GetAll({"t1"})[0].value_or("error"), "t2");
  EXPECT_EQ(endpoint_.requests, 2);
}

TEST_F(GoogleTokenSourceTest, ExpiredTokenIsRefreshed) {
  endpoint_.expires_in = 1;  // used for 500 ms
  EXPECT_EQ(GetAll({""})[0].value_or("error"), "t1");
  bool waited = false;
  asio::steady_timer wait(ioc_, std::chrono::milliseconds(600));
  wait.async_wait([&waited](boost::system::error_code) { waited = true; });
  RunUntil([&] { return waited; });
  EXPECT_EQ(GetAll({""})[0].value_or("error"), "t2");
}

TEST_F(GoogleTokenSourceTest, EndpointFailureIsSharedRetryableThenRecovers) {
  endpoint_.fail_status = 503;
  auto results = GetAll({"", "", ""});
  for (const auto& r : results) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kUnavailable);
    EXPECT_EQ(r.error().message, "token endpoint answered HTTP 503 (unavailable)");
  }
  EXPECT_EQ(endpoint_.requests, 1);
  endpoint_.fail_status = 0;
  EXPECT_EQ(GetAll({""})[0].value_or("error"), "t2");
}

}  // namespace
}  // namespace herald::channels::http
