// `herald serve`: wires store -> api -> HTTP server, runs until SIGTERM/SIGINT, then stops in
// reverse order (stop accepting, let in-flight requests finish, drain the store's writer).
#pragma once

#include "app/config.hpp"

namespace herald::app {

// Returns the process exit code (0 after a graceful stop).
int RunServer(const ServeConfig& config);

}  // namespace herald::app
