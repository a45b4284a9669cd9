# The audit ledger, the per-client rate limiter and the failed-authentication counts:
# self-contained pieces the daemon wires in.
# Included from firmware/CMakeLists.txt.
add_library(signet_audit STATIC
  ${CMAKE_CURRENT_LIST_DIR}/audit/ledger.cpp
  ${CMAKE_CURRENT_LIST_DIR}/audit/verify.cpp
)
target_include_directories(signet_audit PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(signet_audit PUBLIC signet_base OpenSSL::Crypto Threads::Threads)

add_library(signet_limits STATIC
  ${CMAKE_CURRENT_LIST_DIR}/limits/rate_limiter.cpp
  ${CMAKE_CURRENT_LIST_DIR}/limits/address.cpp
  ${CMAKE_CURRENT_LIST_DIR}/limits/auth_failures.cpp
)
target_include_directories(signet_limits PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(signet_limits PUBLIC signet_base OpenSSL::Crypto)
