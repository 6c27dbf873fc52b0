// The one translation unit that compiles Asio's and Beast's implementation (separate
// compilation: BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION are set on
// herald_net and propagate to every user).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>  // for net::HttpClient's https
#include <boost/beast/src.hpp>
