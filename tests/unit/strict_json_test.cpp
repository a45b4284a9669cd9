#include "base/strict_json.h"

#include <gtest/gtest.h>

namespace signet {
namespace {

std::string why(std::string_view text, int depth = 32) {
  JsonError error;
  const auto value = parse_strict_json(text, depth, &error);
  return value ? "(accepted)" : error.message;
}

TEST(StrictJson, AcceptsOrdinaryJsonKeepingOrder) {
  JsonError error;
  const auto value = parse_strict_json(R"({"b":1,"a":[1,{"c":null}]})", 32, &error);
  ASSERT_TRUE(value);
  EXPECT_EQ(value->dump(), R"({"b":1,"a":[1,{"c":null}]})");
}

TEST(StrictJson, RefusesDuplicateMembersAtAnyDepth) {
  EXPECT_EQ(why(R"({"alg":"ES256","alg":"none"})"), "duplicate member name in a JSON object");
  EXPECT_EQ(why(R"({"a":{"x":1,"x":2}})"), "duplicate member name in a JSON object");
  EXPECT_EQ(why(R"({"a":{"x":1},"b":{"x":2}})"), "(accepted)");  // the same name in two objects is fine
}

TEST(StrictJson, CapsDepth) {
  EXPECT_EQ(why(R"([[[1]]])", 3), "(accepted)");
  EXPECT_EQ(why(R"([[[[1]]]])", 3), "JSON nesting is deeper than 3 levels");
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "{\"a\":";
  EXPECT_EQ(why(deep), "JSON nesting is deeper than 32 levels");
}

TEST(StrictJson, RefusesInvalidUtf8AndLoneSurrogates) {
  EXPECT_NE(why("{\"a\":\"\xc2\"}"), "(accepted)");
  EXPECT_NE(why(R"({"a":"\uD834"})"), "(accepted)");
  EXPECT_EQ(why(R"({"a":"\uD834\uDD1E"})"), "(accepted)");  // U+1D11E, a valid pair
}

TEST(StrictJson, ErrorsNeverQuoteTheInput) {
  const std::string message = why(R"({"api_key":"s3cr3t-value" oops})");
  EXPECT_EQ(message.find("s3cr3t"), std::string::npos) << message;
  EXPECT_EQ(message.rfind("malformed JSON", 0), 0u);
}

}  // namespace
}  // namespace signet
