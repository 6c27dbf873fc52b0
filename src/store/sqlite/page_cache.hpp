// A filter in front of SQLite's own page cache that skips the truncates which cannot drop a
// page (decision 0011).
//
// Why: at the end of every write transaction SQLite truncates its page cache to the database
// size. Its default cache (pcache1) only scans the pages above that size when it believes it
// holds some: it keeps the largest key it ever held. A page split (balance_nonroot) swaps two
// pages' numbers through a temporary key, the lock-byte page (1 GiB / page size + 1), so after
// nearly every commit that largest key is far above the database, and the truncate walks the
// whole hash table: with Herald's 64 MiB cache, ~16,000 buckets and pages per commit, 8 % of the
// writer thread's time.
//
// The filter forwards every call to the default cache unchanged, and tracks, per cache, the
// largest key a page may have (every key a fetch may create or a rekey may set, except the
// temporary one, which it counts while a page holds it). A truncate is forwarded unless it
// provably drops nothing: nothing was ever at or above its limit since the last forwarded
// truncate, and no page holds the temporary key. Over-estimating only forwards more.
#pragma once

#include <cstdint>

namespace herald::store::sqlite {

// The decision, apart from SQLite (unit-tested on its own).
class TruncateFilter {
 public:
  explicit TruncateFilter(unsigned page_size);

  void OnFetch(unsigned key, bool may_create);
  void OnRekey(unsigned old_key, unsigned new_key);
  // Whether a truncate to `limit` (drop pages with key >= limit) must reach the cache; if it
  // does, records it.
  bool ForwardTruncate(unsigned limit);

  unsigned temporary_key() const { return temporary_key_; }

 private:
  unsigned temporary_key_;     // the lock-byte page
  unsigned max_key_ = 0;       // no page other than the temporary one has a larger key
  unsigned at_temporary_ = 0;  // pages rekeyed to the temporary key and not back
};

struct PageCacheFilterStats {
  uint64_t truncates_forwarded = 0;
  uint64_t truncates_skipped = 0;
};

// Installs the filter for this process. Must run before SQLite initializes (before the first
// connection opens); returns false, changing nothing, if it is too late or SQLite refuses.
// Idempotent: later calls return the first call's result.
bool InstallPageCacheFilter();

PageCacheFilterStats PageCacheFilterCounters();

}  // namespace herald::store::sqlite
