#include "net/offload.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace herald::net {

namespace asio = boost::asio;

namespace {
asio::thread_pool& BlockingPool() {
  static asio::thread_pool pool(2);
  return pool;
}
}  // namespace

asio::awaitable<void> Offload(std::function<void()> fn) {
  auto initiate = [fn = std::move(fn)](auto handler) mutable {
    asio::post(BlockingPool(), [fn = std::move(fn), handler = std::move(handler)]() mutable {
      fn();
      auto ex = asio::get_associated_executor(handler);
      asio::post(ex, std::move(handler));
    });
  };
  co_await asio::async_initiate<const asio::use_awaitable_t<>, void()>(std::move(initiate),
                                                                       asio::use_awaitable);
}

}  // namespace herald::net
