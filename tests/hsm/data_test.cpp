// Token data objects: round trip, replacement, absence, size limits, and the deterministic
// choice when an interrupted write left two objects with one label.
#include <algorithm>

#include "tests/hsm/hsm_fixture.h"

namespace signet::hsm::testing {
namespace {

TEST_F(HsmTest, DataObjectsRoundTrip) {
  auto missing = hsm_->read_data("ring");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Code::kNotFound);

  ASSERT_TRUE(hsm_->write_data("ring", "v1").ok());
  auto read = hsm_->read_data("ring");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, "v1");

  ASSERT_TRUE(hsm_->write_data("ring", "v0-shorter-but-newer").ok());
  read = hsm_->read_data("ring");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "v0-shorter-but-newer");

  ASSERT_TRUE(hsm_->write_data("other", std::string("bin\0ary", 7)).ok());
  read = hsm_->read_data("other");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, std::string("bin\0ary", 7));

  // One object per label after any number of writes, private and on the token.
  auto p11 = raw();
  ASSERT_NE(p11, nullptr);
  auto objects = p11->find(CKO_DATA, nullptr);
  EXPECT_EQ(objects.size(), 2u);
  for (CK_OBJECT_HANDLE object : objects) {
    EXPECT_EQ(p11->get_bool(object, CKA_PRIVATE), std::optional<bool>(true));
    EXPECT_EQ(p11->get_bool(object, CKA_TOKEN), std::optional<bool>(true));
    std::string application;
    EXPECT_EQ(p11->get_attribute(object, CKA_APPLICATION, &application), CKR_OK);
    EXPECT_EQ(application, "signet");
  }
}

TEST_F(HsmTest, DataObjectsSurviveReopenAndAreLargeEnough) {
  std::string big(64 * 1024, 'x');
  big[0] = 'a';
  big.back() = 'z';
  ASSERT_TRUE(hsm_->write_data("big", big).ok());
  hsm_.reset();
  auto hsm = open_hsm(token_->user_pin());
  ASSERT_TRUE(hsm.ok());
  hsm_ = std::move(hsm).value();
  auto read = hsm_->read_data("big");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, big);

  auto too_big = hsm_->write_data("big", big + "!");
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code, Code::kInvalidArgument);
  EXPECT_EQ(*hsm_->read_data("big"), big);
}

TEST_F(HsmTest, TwoObjectsWithOneLabelReadTheGreatestAndTheNextWriteCleansUp) {
  ASSERT_TRUE(hsm_->write_data("ring", "0002-new").ok());
  {
    // What a crash between a write's create and its destroy leaves behind.
    auto p11 = raw();
    ASSERT_NE(p11, nullptr);
    CK_SESSION_HANDLE rw = CK_INVALID_HANDLE;
    ASSERT_EQ(p11->api().C_OpenSession(p11->slot(), CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                                       nullptr, &rw),
              CKR_OK);
    CK_OBJECT_CLASS data_class = CKO_DATA;
    CK_BBOOL yes = CK_TRUE;
    char label[] = "ring";
    char application[] = "signet";
    char value[] = "0001-old";
    CK_ATTRIBUTE attributes[] = {{CKA_CLASS, &data_class, sizeof data_class},
                                 {CKA_TOKEN, &yes, sizeof yes},
                                 {CKA_PRIVATE, &yes, sizeof yes},
                                 {CKA_LABEL, label, 4},
                                 {CKA_APPLICATION, application, 6},
                                 {CKA_VALUE, value, 8}};
    CK_OBJECT_HANDLE created = CK_INVALID_HANDLE;
    ASSERT_EQ(p11->api().C_CreateObject(rw, attributes, 6, &created), CKR_OK);
    p11->api().C_CloseSession(rw);
  }
  auto read = hsm_->read_data("ring");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "0002-new");

  ASSERT_TRUE(hsm_->write_data("ring", "0003").ok());
  auto p11 = raw();
  ASSERT_NE(p11, nullptr);
  EXPECT_EQ(p11->find(CKO_DATA, nullptr).size(), 1u);
  EXPECT_EQ(*hsm_->read_data("ring"), "0003");
}

TEST_F(HsmTest, EmptyDataLabelIsRefused) {
  EXPECT_EQ(hsm_->write_data("", "x").error().code, Code::kInvalidArgument);
  EXPECT_EQ(hsm_->read_data("").error().code, Code::kInvalidArgument);
}

// Label slots: two data objects, made once, then updated in place; a write keeps the slot that
// holds `keep` and overwrites the other, and no object is created after the second write.
TEST_F(HsmTest, LabelSlotsAreUpdatedInPlaceKeepingTheNewest) {
  auto none = hsm_->read_label_slots("head");
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_TRUE(none->empty());
  std::string newest;
  for (int i = 1; i <= 5; ++i) {
    const std::string value = "head-" + std::to_string(i);
    ASSERT_TRUE(hsm_->write_label_slot("head", newest, value).ok());
    newest = value;
  }
  auto slots = hsm_->read_label_slots("head");
  ASSERT_TRUE(slots.ok());
  std::sort(slots->begin(), slots->end());
  EXPECT_EQ(*slots, (std::vector<std::string>{"head-4", "head-5"}));  // the last two writes

  // Only two objects, private, on the token; not among the labelled records of list_data.
  auto p11 = raw();
  ASSERT_NE(p11, nullptr);
  EXPECT_EQ(p11->find(CKO_DATA, nullptr).size(), 2u);
  auto listed = hsm_->list_data("");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());

  // keep names the slot to spare, whichever sorts first.
  ASSERT_TRUE(hsm_->write_label_slot("head", "head-4", "head-6").ok());
  slots = hsm_->read_label_slots("head");
  ASSERT_TRUE(slots.ok());
  std::sort(slots->begin(), slots->end());
  EXPECT_EQ(*slots, (std::vector<std::string>{"head-4", "head-6"}));
}

}  // namespace
}  // namespace signet::hsm::testing
