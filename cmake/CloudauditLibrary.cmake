# cloudaudit_library(NAME DIR DEPS...)
# One static library per folder: every *.cc in DIR except *_test.cc. Its tests
# (*_test.cc beside the code) become one GoogleTest binary NAME_test,
# registered with CTest. Listing by glob keeps "add a file" free of CMake edits;
# CONFIGURE_DEPENDS re-globs on build.
function(cloudaudit_library name dir)
  file(GLOB _srcs CONFIGURE_DEPENDS ${dir}/*.cc)
  file(GLOB _tests CONFIGURE_DEPENDS ${dir}/*_test.cc)
  if(_tests)
    list(REMOVE_ITEM _srcs ${_tests})
  endif()
  if(NOT _srcs)
    message(WARNING "cloudaudit_library(${name}): no sources in ${dir}; skipped")
    return()
  endif()
  add_library(${name} STATIC ${_srcs})
  target_link_libraries(${name} PUBLIC cloudaudit_flags ${ARGN})
  if(CLOUDAUDIT_TESTS AND _tests)
    add_executable(${name}_test ${_tests})
    target_link_libraries(${name}_test PRIVATE ${name} cloudaudit_testing GTest::gtest_main GTest::gmock)
    gtest_discover_tests(${name}_test
      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
      PROPERTIES ENVIRONMENT "CLOUDAUDIT_SOURCE_DIR=${PROJECT_SOURCE_DIR};TZ=UTC"
      DISCOVERY_TIMEOUT 60)
  endif()
endfunction()
