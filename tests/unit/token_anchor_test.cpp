// The ledger's head in the token (firmware/audit/token_anchor.h), on the fake HSM: kept in two
// label slots updated in turn, a torn slot ignored, and a token that refuses label updates
// served through a data object, the greater of the two places being the head.
#include "firmware/audit/token_anchor.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "firmware/audit/line.h"
#include "tests/unit/fake_hsm.h"

namespace signet::audit {
namespace {

Head head(std::uint64_t lines) { return Head{1, lines, std::string(kChainStart)}; }

std::uint64_t read_lines(TokenAnchor& anchor) {
  auto read = anchor.read();
  EXPECT_TRUE(read.ok()) << read.error().message;
  return read.ok() && *read ? (*read)->lines : 0;
}

TEST(TokenAnchor, WritesAlternateBetweenTwoLabelSlots) {
  testing::FakeHsm hsm;
  TokenAnchor anchor(hsm, "");
  auto empty = anchor.read();
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(*empty);
  for (std::uint64_t lines = 1; lines <= 7; ++lines) ASSERT_TRUE(anchor.write(head(lines)).ok());
  EXPECT_EQ(read_lines(anchor), 7u);
  auto slots = hsm.read_label_slots("signet:audit:head");
  ASSERT_TRUE(slots.ok());
  ASSERT_EQ(slots->size(), 2u);  // the newest and the one before it
  EXPECT_TRUE(Head::decode((*slots)[0]) && Head::decode((*slots)[1]));
  EXPECT_FALSE(hsm.read_data("signet:audit:head").ok());  // no data object was made
  TokenAnchor replica(hsm, "replica-a");  // each audit.name its own slots
  EXPECT_EQ(read_lines(replica), 0u);
}

// A write torn by a crash leaves one slot that does not decode: the other is the head, and the
// next write overwrites the torn one, not the head.
TEST(TokenAnchor, ATornSlotIsIgnoredAndOverwrittenFirst) {
  testing::FakeHsm hsm;
  TokenAnchor anchor(hsm, "");
  ASSERT_TRUE(anchor.write(head(1)).ok());
  ASSERT_TRUE(hsm.write_label_slot("signet:audit:head", head(1).encode(), "\xff torn").ok());
  TokenAnchor restarted(hsm, "");
  EXPECT_EQ(read_lines(restarted), 1u);
  ASSERT_TRUE(restarted.write(head(2)).ok());
  auto slots = hsm.read_label_slots("signet:audit:head");
  ASSERT_TRUE(slots.ok());
  std::sort(slots->begin(), slots->end());
  EXPECT_EQ(*slots, (std::vector<std::string>{head(1).encode(), head(2).encode()}));
  ASSERT_TRUE(hsm.write_label_slot("signet:audit:head", "", "also torn").ok());
  ASSERT_TRUE(hsm.write_label_slot("signet:audit:head", "", "torn too").ok());
  auto unreadable = TokenAnchor(hsm, "").read();  // nothing decodes: refused, never "no head"
  ASSERT_FALSE(unreadable.ok());
  EXPECT_EQ(unreadable.error().code, Code::kInternal);
}

TEST(TokenAnchor, ATokenThatRefusesLabelUpdatesKeepsTheHeadInADataObject) {
  testing::FakeHsm hsm;
  hsm.refuse_labels = true;
  TokenAnchor anchor(hsm, "");
  ASSERT_TRUE(anchor.write(head(3)).ok());
  ASSERT_TRUE(anchor.write(head(4)).ok());
  EXPECT_EQ(*hsm.read_data("signet:audit:head"), head(4).encode());
  EXPECT_EQ(read_lines(anchor), 4u);
}

// A head written by a version that kept it in a data object is read, and the slots written
// from then on supersede it, being greater.
TEST(TokenAnchor, TheGreaterOfTheDataObjectAndTheSlotsIsTheHead) {
  testing::FakeHsm hsm;
  ASSERT_TRUE(hsm.write_data("signet:audit:head", head(9).encode()).ok());
  TokenAnchor anchor(hsm, "");
  EXPECT_EQ(read_lines(anchor), 9u);
  ASSERT_TRUE(anchor.write(head(10)).ok());
  EXPECT_EQ(read_lines(anchor), 10u);
  EXPECT_EQ(*hsm.read_data("signet:audit:head"), head(9).encode());  // left as it was
}

TEST(TokenAnchor, AnHsmThatFailsIsAnErrorNotAnEmptyHead) {
  testing::FakeHsm hsm;
  TokenAnchor anchor(hsm, "");
  ASSERT_TRUE(anchor.write(head(2)).ok());
  hsm.fail_read = true;
  auto read = anchor.read();
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, Code::kHsmUnavailable);
  hsm.fail_read = false;
  hsm.fail_write = true;
  EXPECT_FALSE(anchor.write(head(3)).ok());
  EXPECT_FALSE(hsm.refuse_labels);
  hsm.fail_write = false;
  EXPECT_TRUE(anchor.write(head(3)).ok());
  EXPECT_FALSE(hsm.read_data("signet:audit:head").ok());  // an outage is not a refusal of labels
}

}  // namespace
}  // namespace signet::audit
