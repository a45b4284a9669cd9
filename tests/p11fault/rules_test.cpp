// The control grammar and the per-call decisions, without a module or a token: which lines
// parse into which rules, which are left out and why, and how every/after/latency/reboot
// answer a sequence of calls.
#include "tests/p11fault/rules.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/p11fault/functions.h"
#include "tests/p11fault/rv_names.h"

namespace signet::p11fault {
namespace {

std::size_t bit(Fn fn) { return static_cast<std::size_t>(fn); }

// The answers of `calls` successive calls of `fn`: CKR_OK where the call would be forwarded.
std::vector<CK_RV> answers(const Rules& rules, Fn fn, int calls) {
  std::vector<CK_RV> out;
  for (int i = 0; i < calls; ++i) out.push_back(rules.fault_for(fn).value_or(CKR_OK));
  return out;
}

TEST(P11FaultRules, FailLineWithNamedFunctions) {
  ParsedRules parsed = parse_rules("fail C_Sign,C_SignInit CKR_DEVICE_ERROR\n");
  ASSERT_TRUE(parsed.problems.empty());
  ASSERT_EQ(parsed.rules.fails.size(), 1u);
  const FailRule& rule = parsed.rules.fails[0];
  EXPECT_EQ(rule.code, CKR_DEVICE_ERROR);
  EXPECT_EQ(rule.functions.count(), 2u);
  EXPECT_TRUE(rule.functions.test(bit(Fn::C_Sign)));
  EXPECT_TRUE(rule.functions.test(bit(Fn::C_SignInit)));
  EXPECT_EQ(parsed.rules.fault_for(Fn::C_Sign), CKR_DEVICE_ERROR);
  EXPECT_EQ(parsed.rules.fault_for(Fn::C_Verify), std::nullopt);
}

TEST(P11FaultRules, StarLeavesOutTheSetupFunctions) {
  ParsedRules parsed = parse_rules("fail * CKR_DEVICE_REMOVED");
  ASSERT_EQ(parsed.rules.fails.size(), 1u);
  EXPECT_EQ(parsed.rules.fails[0].functions.count(), kFunctionCount - 4);
  for (Fn setup : {Fn::C_GetFunctionList, Fn::C_Initialize, Fn::C_Finalize, Fn::C_GetInfo}) {
    EXPECT_EQ(parsed.rules.fault_for(setup), std::nullopt) << function_name(setup);
  }
  EXPECT_EQ(parsed.rules.fault_for(Fn::C_WaitForSlotEvent), CKR_DEVICE_REMOVED);
  // Named one by one, they can fail.
  EXPECT_EQ(parse_rules("fail C_Initialize CKR_GENERAL_ERROR").rules.fault_for(Fn::C_Initialize),
            CKR_GENERAL_ERROR);
}

TEST(P11FaultRules, EveryFailsEachNthMatchingCall) {
  Rules rules = parse_rules("fail C_Sign CKR_DEVICE_ERROR every 3").rules;
  std::vector<CK_RV> expected = {CKR_OK, CKR_OK, CKR_DEVICE_ERROR,
                                 CKR_OK, CKR_OK, CKR_DEVICE_ERROR};
  EXPECT_EQ(answers(rules, Fn::C_Sign, 6), expected);
  // Other functions neither fail nor count.
  EXPECT_EQ(rules.fault_for(Fn::C_SignInit), std::nullopt);
  EXPECT_EQ(rules.fault_for(Fn::C_Sign), std::nullopt);
}

TEST(P11FaultRules, AfterLetsTheFirstCallsThrough) {
  Rules rules = parse_rules("fail C_Login CKR_PIN_INCORRECT after 2").rules;
  std::vector<CK_RV> expected = {CKR_OK, CKR_OK, CKR_PIN_INCORRECT, CKR_PIN_INCORRECT};
  EXPECT_EQ(answers(rules, Fn::C_Login, 4), expected);

  Rules both = parse_rules("fail C_Login CKR_PIN_INCORRECT after 3 every 2").rules;
  std::vector<CK_RV> expected_both = {CKR_OK, CKR_OK,           CKR_OK, CKR_OK,
                                      CKR_PIN_INCORRECT, CKR_OK, CKR_PIN_INCORRECT};
  EXPECT_EQ(answers(both, Fn::C_Login, 7), expected_both);
}

TEST(P11FaultRules, FirstRuleThatFailsWins) {
  Rules rules = parse_rules(
                    "fail C_GenerateRandom CKR_DEVICE_ERROR every 2\n"
                    "fail * CKR_GENERAL_ERROR\n")
                    .rules;
  std::vector<CK_RV> expected = {CKR_GENERAL_ERROR, CKR_DEVICE_ERROR, CKR_GENERAL_ERROR,
                                 CKR_DEVICE_ERROR};
  EXPECT_EQ(answers(rules, Fn::C_GenerateRandom, 4), expected);
}

TEST(P11FaultRules, HexCodes) {
  ParsedRules parsed = parse_rules("fail C_Sign 0x80000042\nfail C_Verify 0XA0");
  ASSERT_TRUE(parsed.problems.empty());
  EXPECT_EQ(parsed.rules.fault_for(Fn::C_Sign), CK_RV{0x80000042});
  EXPECT_EQ(parsed.rules.fault_for(Fn::C_Verify), CKR_PIN_INCORRECT);
}

TEST(P11FaultRules, CommentsBlankLinesAndProblems) {
  ParsedRules parsed = parse_rules(
      "# a comment\n"
      "\n"
      "   \t\n"
      "fail C_Sign CKR_DEVICE_ERROR   # trailing comment\n"
      "explode now\n"
      "fail C_Sing CKR_DEVICE_ERROR\n"
      "fail C_Sign CKR_NO_SUCH_CODE\n"
      "fail C_Sign CKR_DEVICE_ERROR every 0\n"
      "fail C_Sign CKR_DEVICE_ERROR every\n"
      "fail C_Sign CKR_DEVICE_ERROR every 2 every 3\n"
      "fail C_Sign\n"
      "latency_ms fast\n"
      "reboot\n"
      "reboot one\n");
  EXPECT_EQ(parsed.rules.fails.size(), 1u);
  ASSERT_EQ(parsed.problems.size(), 10u);
  EXPECT_EQ(parsed.problems[0].line, "explode now");
  EXPECT_NE(parsed.problems[0].reason.find("unknown directive"), std::string::npos);
  EXPECT_NE(parsed.problems[1].reason.find("C_Sing"), std::string::npos);
  EXPECT_NE(parsed.problems[2].reason.find("CKR_NO_SUCH_CODE"), std::string::npos);
}

TEST(P11FaultRules, LatencyDefaultsToStarAndAddsUp) {
  Rules rules = parse_rules(
                    "latency_ms 50\n"
                    "latency_ms 200 C_Sign\n")
                    .rules;
  EXPECT_EQ(rules.latency_for(Fn::C_Sign), std::chrono::milliseconds(250));
  EXPECT_EQ(rules.latency_for(Fn::C_Login), std::chrono::milliseconds(50));
  EXPECT_EQ(rules.latency_for(Fn::C_Initialize), std::chrono::milliseconds(0));
}

TEST(P11FaultRules, RebootKeepsTheHighestGeneration) {
  EXPECT_EQ(parse_rules("").rules.reboot_generation, std::nullopt);
  EXPECT_EQ(parse_rules("reboot 3\nreboot 7\nreboot 5").rules.reboot_generation, 7);
}

TEST(P11FaultRules, RereadKeepsCountsOfUnchangedRules) {
  Rules first = parse_rules("fail C_Sign CKR_DEVICE_ERROR every 3").rules;
  EXPECT_EQ(answers(first, Fn::C_Sign, 2), (std::vector<CK_RV>{CKR_OK, CKR_OK}));
  Rules second = parse_rules("latency_ms 10\nfail C_Sign CKR_DEVICE_ERROR every 3 # same").rules;
  second.adopt_counts(first);
  EXPECT_EQ(second.fault_for(Fn::C_Sign), CKR_DEVICE_ERROR);  // the third call
  Rules changed = parse_rules("fail C_Sign CKR_DEVICE_ERROR every 4").rules;
  changed.adopt_counts(second);
  EXPECT_EQ(answers(changed, Fn::C_Sign, 4),
            (std::vector<CK_RV>{CKR_OK, CKR_OK, CKR_OK, CKR_DEVICE_ERROR}));
}

TEST(P11FaultRvNames, NamesBothWays) {
  EXPECT_EQ(rv_name(CKR_DEVICE_REMOVED), "CKR_DEVICE_REMOVED");
  EXPECT_EQ(parse_rv("CKR_SESSION_HANDLE_INVALID"), CKR_SESSION_HANDLE_INVALID);
  EXPECT_EQ(parse_rv("0x"), std::nullopt);
  EXPECT_EQ(parse_rv("0x12g"), std::nullopt);
  EXPECT_EQ(parse_rv("ckr_ok"), std::nullopt);
  char buffer[32];
  EXPECT_EQ(std::string_view(buffer, format_rv(0x80000042, buffer, sizeof buffer)),
            "0x80000042");
  EXPECT_EQ(std::string_view(buffer, format_rv(CKR_OK, buffer, sizeof buffer)), "CKR_OK");
}

TEST(P11FaultFunctions, TableMatchesTheFunctionList) {
  EXPECT_EQ(kFunctionCount, 68u);
  EXPECT_EQ(function_name(Fn::C_WaitForSlotEvent), "C_WaitForSlotEvent");
  EXPECT_EQ(find_function("C_DecryptVerifyUpdate"), Fn::C_DecryptVerifyUpdate);
  EXPECT_EQ(find_function("C_GetInterface"), std::nullopt);
}

}  // namespace
}  // namespace signet::p11fault
