// JSON text written directly (base/json_text.h): the same text nlohmann writes for valid input,
// and valid JSON whatever the bytes.
#include "base/json_text.h"

#include "base/hex.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace signet::json_text {
namespace {

std::string as_json(std::string_view text) {
  std::string out;
  append_string(out, text);
  return out;
}

TEST(JsonText, WritesWhatNlohmannWritesForValidText) {
  for (const std::string& text : std::initializer_list<std::string>{"", "plain", "quote \" and backslash \\", "\b\f\n\r\t", std::string("\0\x01\x1f\x7f", 4),
                                 "caf\xC3\xA9", "\xE2\x82\xAC 100", "\xF0\x9F\x94\x91 key", "/slash/ stays"}) {
    EXPECT_EQ(as_json(text), nlohmann::json(text).dump()) << text;
  }
}

TEST(JsonText, ReplacesEachInvalidUtf8ByteWithTheReplacementCharacter) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(as_json("a\xFFz"), "\"a" + fffd + "z\"");
  EXPECT_EQ(as_json("\xC0\xAF"), "\"" + fffd + fffd + "\"");          // overlong '/'
  EXPECT_EQ(as_json("\xED\xA0\x80"), "\"" + fffd + fffd + fffd + "\"");  // a surrogate
  EXPECT_EQ(as_json("\xF4\x90\x80\x80"), "\"" + fffd + fffd + fffd + fffd + "\"");  // above U+10FFFF
  EXPECT_EQ(as_json("caf\xC3"), "\"caf" + fffd + "\"");  // cut short at the end
}

// Whether nlohmann takes bytes as valid UTF-8 (its dump() throws otherwise): the oracle.
bool valid_utf8(const std::string& bytes) {
  try {
    static_cast<void>(nlohmann::json(bytes).dump());
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

TEST(JsonText, AnyBytesMakeAStringThatParsesBack) {
  std::mt19937 random(20261201);
  int valid = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string bytes(random() % 12, '\0');
    // Mostly ASCII and UTF-8 lead/continuation bytes, so that valid sequences occur too.
    for (char& c : bytes) c = static_cast<char>(random() % 2 ? random() % 128 : 0x80 + random() % 128);
    const std::string text = as_json(bytes);
    const auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(parsed.is_string()) << hex::encode(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    if (valid_utf8(bytes)) {
      ++valid;
      EXPECT_EQ(parsed.get<std::string>(), bytes);
      EXPECT_EQ(text, nlohmann::json(bytes).dump());
    }
  }
  EXPECT_GT(valid, 500);  // the comparison above ran on many valid strings
}

TEST(JsonText, ObjectMembersInTheOrderWritten) {
  std::string out;
  Object(out).string("b", "x").number("a", -42).string("c\n", "").close();
  EXPECT_EQ(out, R"({"b":"x","a":-42,"c\n":""})");
  EXPECT_EQ(nlohmann::json::parse(out)["a"], -42);
}

}  // namespace
}  // namespace signet::json_text
