# signet_pytest(NAME FILE): registers one pytest file as a CTest test, run by Debian's python3
# (it has python3-pytest and python3-jwt from tools/install-deps, unlike a python3 that may come
# first on PATH), with the programs under test in SIGNETD and SIGNETCTL (see harness.py) and the
# build folder in SIGNET_BUILD_DIR.
function(signet_pytest name file)
  if(TARGET signetd AND TARGET signetctl)
    set(programs "SIGNETD=$<TARGET_FILE:signetd>;SIGNETCTL=$<TARGET_FILE:signetctl>")
  else()
    set(programs "SIGNETD=${CMAKE_BINARY_DIR}/bin/signetd;SIGNETCTL=${CMAKE_BINARY_DIR}/bin/signetctl")
  endif()
  # The fault-injecting PKCS#11 module (tests/p11fault) for the HSM fault scenarios.
  list(APPEND programs "SIGNET_P11FAULT=${CMAKE_BINARY_DIR}/lib/libsignet-p11fault.so")
  # Each file its own temp root in the build folder: parallel runs never share or prune it.
  add_test(NAME ${name}
           COMMAND /usr/bin/python3 -m pytest -q -rsx -p no:cacheprovider --basetemp=${CMAKE_CURRENT_BINARY_DIR}/tmp-${name} ${file}
           WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  # SIGNET_BUILD_DIR: for the packaging tests, which install and package this build.
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${programs};SIGNET_BUILD_DIR=${CMAKE_BINARY_DIR}" TIMEOUT 600)
endfunction()

# signet_pytest_folder(PREFIX): one CTest test PREFIX.<topic> per test_<topic>.py file in the
# calling folder; a new file is picked up at the next configure.
function(signet_pytest_folder prefix)
  file(GLOB test_files CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test_*.py)
  foreach(file IN LISTS test_files)
    get_filename_component(topic ${file} NAME_WE)
    string(REGEX REPLACE "^test_" "" topic ${topic})
    signet_pytest(${prefix}.${topic} ${file})
  endforeach()
endfunction()
