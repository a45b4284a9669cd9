# `cpack -G DEB` in the build folder: two packages, versioned by the project.
#   signet                signetd, signetctl, the unit, man pages, docs; its library dependencies
#                         found by dpkg-shlibdeps; maintainer scripts from debian/
#   libsignet-verify-dev  the verifier library, its headers, CMake package and pkg-config file
foreach(script postinst prerm postrm)
  configure_file(debian/${script}.in ${CMAKE_CURRENT_BINARY_DIR}/debian/${script} @ONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/debian/conffiles "${SIGNET_CONFIG_DIR}/softhsm2.conf\n")

set(CPACK_GENERATOR DEB)
# The package installs where the unit file says signetd is.
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(WARNING "The Debian package will install into ${CMAKE_INSTALL_PREFIX}, not /usr: "
                  "configure with -DCMAKE_INSTALL_PREFIX=/usr to package for an appliance")
endif()
set(CPACK_PACKAGE_NAME signet)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Signet")
set(CPACK_PACKAGE_CONTACT "Signet maintainers <signet-maintainers@localhost>")
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL signet dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# The binaries ship stripped (RelWithDebInfo builds carry symbols the appliance does not need).
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_SIGNET_PACKAGE_NAME signet)
set(CPACK_DEBIAN_SIGNET_PACKAGE_SECTION admin)
# procps: /bin/kill for ExecReload; passwd: useradd; init-system-helpers: deb-systemd-helper.
set(CPACK_DEBIAN_SIGNET_PACKAGE_DEPENDS "procps, passwd, init-system-helpers (>= 1.52)")
set(CPACK_DEBIAN_SIGNET_PACKAGE_SUGGESTS "softhsm2, opensc, gnutls-bin")
set(CPACK_DEBIAN_SIGNET_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_BINARY_DIR}/debian/postinst ${CMAKE_CURRENT_BINARY_DIR}/debian/prerm
    ${CMAKE_CURRENT_BINARY_DIR}/debian/postrm ${CMAKE_CURRENT_BINARY_DIR}/debian/conffiles)
# Each component's description: its first line is the package's synopsis.
set(CPACK_COMPONENT_SIGNET_DESCRIPTION "HSM-backed JWT signing appliance
signetd issues short-lived JWTs over HTTPS and publishes their keys as a JWKS; every
private key, the TLS server key included, lives in a PKCS#11 token (an HSM, or SoftHSM2
for development). signetctl provisions a token and operates the service.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libsignet-verify-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libssl-dev (>= 3), libcurl4-openssl-dev | libcurl-dev, nlohmann-json3-dev (>= 3)")
set(CPACK_COMPONENT_DEV_DESCRIPTION "Signet's relying-party JWT verifier (static library, C++20)
Verifies Signet's tokens (RS256, PS256, ES256, EdDSA) against a JWKS fetched over HTTPS.
find_package(SignetVerify) or pkg-config signet-verify.")

include(CPack)
