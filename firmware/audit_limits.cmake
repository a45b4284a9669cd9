# The audit ledger, the per-client rate limiter and the failed-authentication counts:
# self-contained pieces the daemon wires in.
# Included from firmware/CMakeLists.txt.
add_library(signet_audit STATIC
  ${CMAKE_CURRENT_LIST_DIR}/audit/ledger.cpp
  ${CMAKE_CURRENT_LIST_DIR}/audit/verify.cpp
  ${CMAKE_CURRENT_LIST_DIR}/audit/anchor.cpp
)
target_include_directories(signet_audit PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(signet_audit PUBLIC signet_base OpenSSL::Crypto Threads::Threads)

# The ledger's head kept in the HSM token: signetd and signetctl (audit verify --config,
# audit reset-anchor) link it; the ledger itself knows only the Anchor interface.
add_library(signet_audit_anchor STATIC ${CMAKE_CURRENT_LIST_DIR}/audit/token_anchor.cpp)
target_include_directories(signet_audit_anchor PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(signet_audit_anchor PUBLIC signet_audit signet_hsm)
target_link_libraries(signetd PRIVATE signet_audit_anchor)

add_library(signet_limits STATIC
  ${CMAKE_CURRENT_LIST_DIR}/limits/rate_limiter.cpp
  ${CMAKE_CURRENT_LIST_DIR}/limits/address.cpp
  ${CMAKE_CURRENT_LIST_DIR}/limits/auth_failures.cpp
)
target_include_directories(signet_limits PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(signet_limits PUBLIC signet_base OpenSSL::Crypto)
