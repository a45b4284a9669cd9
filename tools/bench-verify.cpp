// bench_verify: tokens verified per second by the relying-party library on one thread, for each
// algorithm, with software keys (the verifier tests' SoftwareKey). A measurement, not a test:
// nothing is asserted. Usage: bench_verify [seconds-per-algorithm]   (default 2)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "firmware/verify/verifier.h"
#include "tests/verify/software_key.h"

int main(int argc, char** argv) {
  using nlohmann::json;
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  for (const std::string alg : {"ES256", "RS256", "PS256", "EdDSA"}) {
    const signet::verify::testing::SoftwareKey key(alg, "bench-" + alg);
    const auto imported = signet::verify::KeySet::from_jwk_objects(std::vector<json>{key.public_jwk()});
    const std::int64_t now = 1'700'000'000;
    const json claims = {{"iss", "https://signet.test"}, {"aud", "svc-a"}, {"sub", "user-1"},
                         {"iat", now}, {"nbf", now}, {"exp", now + 600}, {"jti", "bench"}};
    const std::string token = key.token(key.header(), claims.dump());
    signet::verify::Expectations expect;
    expect.issuer = "https://signet.test";
    expect.audience = "svc-a";
    expect.typ = "signet+jwt";
    expect.now = now;

    const auto start = std::chrono::steady_clock::now();
    std::size_t count = 0, valid = 0;
    double elapsed = 0;
    do {
      for (int i = 0; i < 100; ++i, ++count) valid += signet::verify::verify(imported.keys, token, expect).valid;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (elapsed < seconds);
    std::printf("%-6s %9.0f tokens/s  (%zu verified, %zu valid, %zu-byte token)\n", alg.c_str(),
                static_cast<double>(count) / elapsed, count, valid, token.size());
  }
  return 0;
}
