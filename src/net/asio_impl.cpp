// The one translation unit that compiles Asio's and Beast's implementation (separate
// compilation: BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION are set on
// herald_net and propagate to every user).
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
