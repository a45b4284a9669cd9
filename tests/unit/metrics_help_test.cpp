#include "firmware/api/metrics_help.h"

#include <gtest/gtest.h>

namespace signet::api {
namespace {

TEST(MetricsHelp, PutsHelpBeforeEachKnownType) {
  const std::string out = with_help("# TYPE signet_keys gauge\nsignet_keys{state=\"active\"} 1\n"
                                    "# TYPE signet_hsm_up gauge\nsignet_hsm_up 1\n");
  EXPECT_EQ(out, "# HELP signet_keys " + std::string(metric_help("signet_keys")) + "\n"
                 "# TYPE signet_keys gauge\nsignet_keys{state=\"active\"} 1\n"
                 "# HELP signet_hsm_up " + std::string(metric_help("signet_hsm_up")) + "\n"
                 "# TYPE signet_hsm_up gauge\nsignet_hsm_up 1\n");
}

TEST(MetricsHelp, KeepsAnExistingHelpAndLeavesUnknownFamilies) {
  const std::string text = "# HELP signet_keys mine\n# TYPE signet_keys gauge\n# TYPE other gauge\nother 1\n";
  EXPECT_EQ(with_help(text), text);
}

}  // namespace
}  // namespace signet::api
