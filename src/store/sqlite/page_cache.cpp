#include "store/sqlite/page_cache.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <new>

namespace herald::store::sqlite {

// SQLite's PENDING_BYTE: the page holding it is never used for data (os.h).
constexpr unsigned kPendingByte = 0x40000000;

TruncateFilter::TruncateFilter(unsigned page_size)
    : temporary_key_(kPendingByte / std::max(page_size, 1u) + 1) {}

void TruncateFilter::OnFetch(unsigned key, bool may_create) {
  // A fetch of the lock-byte page itself (SQLite refuses it and drops the new entry) counts
  // like any key: over-estimating only forwards more truncates.
  if (may_create) max_key_ = std::max(max_key_, key);
}

void TruncateFilter::OnRekey(unsigned old_key, unsigned new_key) {
  if (old_key == temporary_key_ && at_temporary_ > 0) --at_temporary_;
  if (new_key == temporary_key_) {
    ++at_temporary_;
  } else {
    max_key_ = std::max(max_key_, new_key);
  }
}

bool TruncateFilter::ForwardTruncate(unsigned limit) {
  if (max_key_ < limit && (at_temporary_ == 0 || temporary_key_ < limit)) return false;
  // Every page at or above `limit` is dropped, the temporary one included if it is there.
  if (limit <= temporary_key_) at_temporary_ = 0;
  max_key_ = std::min(max_key_, limit == 0 ? 0 : limit - 1);
  return true;
}

namespace {

sqlite3_pcache_methods2 g_default{};  // SQLite's own cache, set once before install
std::atomic<uint64_t> g_forwarded{0};
std::atomic<uint64_t> g_skipped{0};

// Each cache is used by one connection at a time (SQLite serializes calls per cache), so the
// filter needs no lock of its own.
struct FilteredCache {
  sqlite3_pcache* inner;
  TruncateFilter filter;
};

FilteredCache* Of(sqlite3_pcache* p) { return reinterpret_cast<FilteredCache*>(p); }

int Init(void* arg) { return g_default.xInit ? g_default.xInit(arg) : SQLITE_OK; }
void Shutdown(void* arg) {
  if (g_default.xShutdown) g_default.xShutdown(arg);
}
sqlite3_pcache* Create(int page_size, int extra, int purgeable) {
  sqlite3_pcache* inner = g_default.xCreate(page_size, extra, purgeable);
  if (inner == nullptr) return nullptr;
  auto* cache =
      new (std::nothrow) FilteredCache{inner, TruncateFilter(static_cast<unsigned>(page_size))};
  if (cache == nullptr) {
    g_default.xDestroy(inner);
    return nullptr;
  }
  return reinterpret_cast<sqlite3_pcache*>(cache);
}
void Cachesize(sqlite3_pcache* p, int pages) { g_default.xCachesize(Of(p)->inner, pages); }
int Pagecount(sqlite3_pcache* p) { return g_default.xPagecount(Of(p)->inner); }
sqlite3_pcache_page* Fetch(sqlite3_pcache* p, unsigned key, int create) {
  Of(p)->filter.OnFetch(key, create != 0);
  return g_default.xFetch(Of(p)->inner, key, create);
}
void Unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  g_default.xUnpin(Of(p)->inner, page, discard);
}
void Rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  Of(p)->filter.OnRekey(old_key, new_key);
  g_default.xRekey(Of(p)->inner, page, old_key, new_key);
}
void Truncate(sqlite3_pcache* p, unsigned limit) {
  if (!Of(p)->filter.ForwardTruncate(limit)) {
    g_skipped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  g_forwarded.fetch_add(1, std::memory_order_relaxed);
  g_default.xTruncate(Of(p)->inner, limit);
}
void Destroy(sqlite3_pcache* p) {
  g_default.xDestroy(Of(p)->inner);
  delete Of(p);
}
void Shrink(sqlite3_pcache* p) {
  if (g_default.xShrink) g_default.xShrink(Of(p)->inner);
}

bool Install() {
  // Both calls are refused (SQLITE_MISUSE) once SQLite is initialized.
  if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &g_default) != SQLITE_OK) return false;
  if (g_default.xCreate == nullptr || g_default.xFetch == nullptr ||
      g_default.xTruncate == nullptr || g_default.xRekey == nullptr) {
    return false;
  }
  sqlite3_pcache_methods2 filtered = g_default;  // iVersion and pArg as SQLite's own
  filtered.xInit = Init;
  filtered.xShutdown = Shutdown;
  filtered.xCreate = Create;
  filtered.xCachesize = Cachesize;
  filtered.xPagecount = Pagecount;
  filtered.xFetch = Fetch;
  filtered.xUnpin = Unpin;
  filtered.xRekey = Rekey;
  filtered.xTruncate = Truncate;
  filtered.xDestroy = Destroy;
  filtered.xShrink = Shrink;
  return sqlite3_config(SQLITE_CONFIG_PCACHE2, &filtered) == SQLITE_OK;
}

}  // namespace

bool InstallPageCacheFilter() {
  static std::once_flag once;
  static bool installed = false;
  std::call_once(once, [] { installed = Install(); });
  return installed;
}

PageCacheFilterStats PageCacheFilterCounters() {
  return {g_forwarded.load(std::memory_order_relaxed), g_skipped.load(std::memory_order_relaxed)};
}

}  // namespace herald::store::sqlite
