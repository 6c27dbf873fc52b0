// Offload: run blocking work (RSA key generation, file I/O) on a small shared thread pool and
// resume the calling coroutine on its own executor afterwards. I/O threads never block.
#pragma once

#include <functional>

#include <boost/asio/awaitable.hpp>

namespace herald::net {

// REQUIRES: `fn` is a named local moved in (style.md §4.5 rule 1). `fn` must not throw.
boost::asio::awaitable<void> Offload(std::function<void()> fn);

}  // namespace herald::net
