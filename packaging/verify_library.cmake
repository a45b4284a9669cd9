# The relying-party verifier as an installable library for other C++ services (package
# libsignet-verify-dev): libsignet-verify.a holding the verifier with the jose/ and base/ code it
# uses, its two public headers, a CMake package (find_package(SignetVerify)) and a pkg-config
# file (signet-verify). The objects are the ones Signet builds anyway, made position-independent
# so that a shared library may link them too.
set_target_properties(signet_verify signet_jose signet_base PROPERTIES POSITION_INDEPENDENT_CODE ON)
add_library(signet_verify_dist STATIC
  $<TARGET_OBJECTS:signet_verify> $<TARGET_OBJECTS:signet_jose> $<TARGET_OBJECTS:signet_base>)
set_target_properties(signet_verify_dist PROPERTIES OUTPUT_NAME signet-verify EXPORT_NAME SignetVerify LINKER_LANGUAGE CXX)
target_include_directories(signet_verify_dist INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/signet>)
target_compile_features(signet_verify_dist INTERFACE cxx_std_20)
target_link_libraries(signet_verify_dist INTERFACE OpenSSL::Crypto nlohmann_json::nlohmann_json Threads::Threads CURL::libcurl)

install(TARGETS signet_verify_dist EXPORT SignetVerifyTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/firmware/verify/verifier.h ${PROJECT_SOURCE_DIR}/firmware/verify/jwks_fetcher.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/signet/firmware/verify COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/firmware/verify/README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/libsignet-verify-dev
        COMPONENT dev)

include(CMakePackageConfigHelpers)
set(cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/SignetVerify)
install(EXPORT SignetVerifyTargets NAMESPACE SignetVerify:: DESTINATION ${cmake_dir} COMPONENT dev)
configure_package_config_file(cmake/SignetVerifyConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/SignetVerifyConfig.cmake
                              INSTALL_DESTINATION ${cmake_dir})
# 0.x: a new minor version may change the API.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/SignetVerifyConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/SignetVerifyConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/SignetVerifyConfigVersion.cmake
        DESTINATION ${cmake_dir} COMPONENT dev)
configure_file(signet-verify.pc.in ${CMAKE_CURRENT_BINARY_DIR}/signet-verify.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/signet-verify.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
