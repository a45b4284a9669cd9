# The version both programs print (--version): the project's version, and the git revision of
# the source tree read once at configure time ("unknown" outside a git checkout, e.g. a source
# tarball). Only version.cpp is generated, so a new revision recompiles one file.
find_package(Git QUIET)
set(SIGNET_GIT_REVISION "unknown")
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
                  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                  OUTPUT_VARIABLE revision OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE status ERROR_QUIET)
  if(status EQUAL 0 AND revision MATCHES "^[0-9a-f]+$")
    set(SIGNET_GIT_REVISION "${revision}")
  endif()
endif()
configure_file(${PROJECT_SOURCE_DIR}/base/version.cpp.in ${PROJECT_BINARY_DIR}/generated/version.cpp @ONLY)
add_library(signet_version STATIC ${PROJECT_BINARY_DIR}/generated/version.cpp)
target_include_directories(signet_version PUBLIC ${PROJECT_SOURCE_DIR})
