#include "app/app_commands.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>

#include <boost/json/serialize.hpp>

#include "api/applications.hpp"
#include "app/config.hpp"
#include "core/clock.hpp"
#include "engine/dead_letters.hpp"
#include "store/store.hpp"

namespace herald::app {

namespace {

Result<std::unique_ptr<store::Store>> Open(const std::string& data_dir) {
  HERALD_RETURN_IF_ERROR(EnsureDataDir(data_dir));
  store::SqliteOptions sqlite;
  sqlite.path = DatabasePath(data_dir);
  sqlite.read_connections = 1;
  return store::OpenSqliteStore(sqlite);
}

int Fail(const Error& e) {
  std::cerr << "herald: " << e.message << "\n";
  return e.code == Errc::kInvalidArgument ? 2 : (e.code == Errc::kNotFound ? 3 : 1);
}

void Print(const boost::json::value& v) { std::cout << boost::json::serialize(v) << "\n"; }

// Writes the private key readable by the owner only; refuses to overwrite an existing file.
Result<void> WritePrivateKey(const std::string& path, const std::string& pem) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    return MakeError(Errc::kInvalidArgument,
                     "cannot create private key file " + path + ": " + std::strerror(errno));
  }
  size_t written = 0;
  while (written < pem.size()) {
    ssize_t n = ::write(fd, pem.data() + written, pem.size() - written);
    if (n <= 0) {
      ::close(fd);
      return MakeError(Errc::kUnavailable, "cannot write " + path);
    }
    written += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  return {};
}

Result<void> InTx(store::Store& db, store::TxMode mode,
                  const std::function<Result<void>(store::Tx&)>& fn) {
  HERALD_ASSIGN_OR_RETURN(auto tx, db.Begin(mode));
  HERALD_RETURN_IF_ERROR(fn(*tx));
  if (mode == store::TxMode::kWrite) return tx->Commit();
  return {};
}

std::optional<std::string> EmptyToNull(const std::optional<std::string>& v) {
  if (v && v->empty()) return std::nullopt;
  return v;
}

}  // namespace

int AppCreate(const AppCommandOptions& options) {
  if (!options.name) return Fail(Error{Errc::kInvalidArgument, "--name is required", {}});
  api::NewApplicationParams params{*options.name, EmptyToNull(options.status_url),
                                   EmptyToNull(options.inbound_url)};
  auto created = api::MakeApplication(params, SystemClock::Instance().NowMs());
  if (!created) return Fail(created.error());
  auto db = Open(options.data_dir);
  if (!db) return Fail(db.error());
  std::string key_path = options.private_key_path.value_or(created->row.id + ".key");
  // Write the key before storing the application: one whose key was never saved is unusable.
  if (auto w = WritePrivateKey(key_path, created->private_key_pem); !w) return Fail(w.error());
  auto st = InTx(**db, store::TxMode::kWrite,
                 [&](store::Tx& tx) { return tx.ApplicationInsert(created->row); });
  if (!st) {
    std::remove(key_path.c_str());
    return Fail(st.error());
  }
  boost::json::object o = api::ApplicationJson(created->row);
  o["api_secret"] = created->api_secret;
  o["signature_secret"] = created->row.signature_secret;
  o["private_key_path"] = key_path;
  Print(o);
  return 0;
}

int AppList(const AppCommandOptions& options) {
  auto db = Open(options.data_dir);
  if (!db) return Fail(db.error());
  std::vector<store::ApplicationRow> rows;
  auto st = InTx(**db, store::TxMode::kRead, [&](store::Tx& tx) -> Result<void> {
    HERALD_ASSIGN_OR_RETURN(rows, tx.ApplicationList());
    return {};
  });
  if (!st) return Fail(st.error());
  boost::json::array out;
  for (const auto& r : rows) out.push_back(api::ApplicationJson(r));
  Print(out);
  return 0;
}

int AppShow(const AppCommandOptions& options) {
  auto db = Open(options.data_dir);
  if (!db) return Fail(db.error());
  std::optional<store::ApplicationRow> row;
  auto st = InTx(**db, store::TxMode::kRead, [&](store::Tx& tx) -> Result<void> {
    HERALD_ASSIGN_OR_RETURN(row, tx.ApplicationGet(options.id));
    return {};
  });
  if (!st) return Fail(st.error());
  if (!row) return Fail(Error{Errc::kNotFound, "no application " + options.id, {}});
  Print(api::ApplicationJson(*row));
  return 0;
}

int AppUpdate(const AppCommandOptions& options) {
  if (options.name && (options.name->empty() || options.name->size() > 200)) {
    return Fail(Error{Errc::kInvalidArgument, "--name must be 1..200 characters", {}});
  }
  for (const auto* url : {&options.status_url, &options.inbound_url}) {
    if (*url && !(*url)->empty()) {
      if (auto reason = api::CheckWebhookUrl(**url)) {
        return Fail(Error{Errc::kInvalidArgument,
                          std::string(url == &options.status_url ? "--status-url "
                                                                 : "--inbound-url ") +
                              *reason,
                          {}});
      }
    }
  }
  auto db = Open(options.data_dir);
  if (!db) return Fail(db.error());
  std::optional<store::ApplicationRow> row;
  auto st = InTx(**db, store::TxMode::kWrite, [&](store::Tx& tx) -> Result<void> {
    HERALD_ASSIGN_OR_RETURN(row, tx.ApplicationGet(options.id));
    if (!row) return {};
    if (options.name) row->name = *options.name;
    if (options.status_url) row->status_url = EmptyToNull(options.status_url);
    if (options.inbound_url) row->inbound_url = EmptyToNull(options.inbound_url);
    row->updated_at_ms = SystemClock::Instance().NowMs();
    HERALD_ASSIGN_OR_RETURN(bool updated, tx.ApplicationUpdate(*row));
    (void)updated;
    return {};
  });
  if (!st) return Fail(st.error());
  if (!row) return Fail(Error{Errc::kNotFound, "no application " + options.id, {}});
  Print(api::ApplicationJson(*row));
  return 0;
}

int AppDelete(const AppCommandOptions& options) {
  auto db = Open(options.data_dir);
  if (!db) return Fail(db.error());
  bool deleted = false;
  auto st = InTx(**db, store::TxMode::kWrite, [&](store::Tx& tx) -> Result<void> {
    HERALD_ASSIGN_OR_RETURN(deleted, tx.ApplicationDelete(options.id));
    return {};
  });
  if (!st) return Fail(st.error());
  if (!deleted) return Fail(Error{Errc::kNotFound, "no application " + options.id, {}});
  Print(boost::json::object{{"deleted", options.id}});
  return 0;
}

int Migrate(const std::string& data_dir) {
  auto db = Open(data_dir);
  if (!db) return Fail(db.error());
  std::cout << "herald: database " << DatabasePath(data_dir) << " is up to date\n";
  return 0;
}

int WebhooksList(const std::string& data_dir) {
  auto db = Open(data_dir);
  if (!db) return Fail(db.error());
  std::vector<store::JobRow> dead;
  auto r = InTx(**db, store::TxMode::kRead, [&dead](store::Tx& tx) -> Result<void> {
    HERALD_ASSIGN_OR_RETURN(dead, tx.JobListByState("dead", 0));
    return {};
  });
  if (!r) return Fail(r.error());
  for (const auto& j : dead) Print(engine::DeadLetterJson(j));
  return 0;
}

int WebhooksReplay(const std::string& data_dir, const std::vector<int64_t>& ids, bool all) {
  if (ids.empty() == !all) {
    return Fail(Error{Errc::kInvalidArgument, "give dead-letter ids or --all (not both)",
                      std::nullopt});
  }
  auto db = Open(data_dir);
  if (!db) return Fail(db.error());
  const int64_t now = SystemClock::Instance().NowMs();
  int64_t replayed = 0;
  std::vector<int64_t> unknown;
  auto r = InTx(**db, store::TxMode::kWrite, [&](store::Tx& tx) -> Result<void> {
    replayed = 0;
    unknown.clear();
    std::vector<store::JobRow> jobs;
    if (all) {
      HERALD_ASSIGN_OR_RETURN(jobs, tx.JobListByState("dead", 0));
    } else {
      for (int64_t id : ids) {
        HERALD_ASSIGN_OR_RETURN(auto job, tx.JobGet(id));
        if (!job || job->state != "dead") {
          unknown.push_back(id);
        } else {
          jobs.push_back(std::move(*job));
        }
      }
      if (!unknown.empty()) return {};  // all or nothing
    }
    for (auto& job : jobs) {
      HERALD_RETURN_IF_ERROR(engine::ReplayDeadLetter(tx, job, now).map([](store::JobRow) {}));
      ++replayed;
    }
    return {};
  });
  if (!r) return Fail(r.error());
  if (!unknown.empty()) {
    std::string list;
    for (int64_t id : unknown) list += (list.empty() ? "" : ", ") + std::to_string(id);
    return Fail(Error{Errc::kNotFound, "no dead letter with id " + list + " (nothing replayed)",
                      std::nullopt});
  }
  Print(boost::json::object{{"replayed", replayed}});
  return 0;
}

}  // namespace herald::app
