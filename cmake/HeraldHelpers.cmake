# Shared build settings: warnings, sanitizers, and helpers that keep every module's
# CMakeLists.txt to a few lines.

set(HERALD_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
if(HERALD_WERROR)
  list(APPEND HERALD_WARNINGS -Werror)
endif()

if(HERALD_SANITIZE)
  add_compile_options(-fsanitize=${HERALD_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${HERALD_SANITIZE})
endif()

# herald_add_library(<module> SOURCES ... DEPS ...)
# Builds static library herald_<module> (alias herald::<module>) from the given sources; unit
# tests named *_test.cpp in the same folder are collected by herald_add_unit_tests().
function(herald_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(herald_${name} STATIC ${ARG_SOURCES})
  add_library(herald::${name} ALIAS herald_${name})
  target_include_directories(herald_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(herald_${name} PRIVATE ${HERALD_WARNINGS})
  target_link_libraries(herald_${name} PUBLIC ${ARG_DEPS})
endfunction()

# herald_add_unit_tests(<module> SOURCES ... DEPS ...)
# One GoogleTest executable per module: herald_<module>_tests, labelled "unit".
function(herald_add_unit_tests name)
  if(NOT HERALD_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(herald_${name}_tests ${ARG_SOURCES})
  target_compile_options(herald_${name}_tests PRIVATE ${HERALD_WARNINGS})
  target_link_libraries(herald_${name}_tests PRIVATE herald::${name} ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(herald_${name}_tests DISCOVERY_MODE PRE_TEST PROPERTIES LABELS unit)
endfunction()
