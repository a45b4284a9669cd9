// read_pin: exactly one source, strict file permissions, line ends stripped, errors that name
// the file or variable and never the PIN.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "hsm/hsm.h"

namespace signet::hsm {
namespace {

class ReadPinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path().string() + "/signet-pin-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_.data()), nullptr);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content, mode_t mode) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }

  std::string dir_;
};

TEST_F(ReadPinTest, ReadsAPrivateFileAndStripsTheLineEnd) {
  auto pin = read_pin(write("pin", "s3cret-pin\r\n", 0600), "");
  ASSERT_TRUE(pin.ok()) << pin.error().message;
  EXPECT_EQ(pin->view(), "s3cret-pin");
  auto readonly = read_pin(write("pin2", "1234\n", 0400), "");
  ASSERT_TRUE(readonly.ok());
  EXPECT_EQ(readonly->view(), "1234");
}

TEST_F(ReadPinTest, RefusesAFileOthersCanRead) {
  std::string path = write("pin", "s3cret-pin\n", 0644);
  auto pin = read_pin(path, "");
  ASSERT_FALSE(pin.ok());
  EXPECT_EQ(pin.error().code, Code::kConfig);
  EXPECT_EQ(pin.error().message,
            "PIN file '" + path + "' is readable by group or others (mode 0644); chmod 600 it");
  EXPECT_EQ(pin.error().message.find("s3cret"), std::string::npos);

  auto group_writable = read_pin(write("pin2", "1234", 0620), "");
  ASSERT_FALSE(group_writable.ok());
  EXPECT_NE(group_writable.error().message.find("mode 0620"), std::string::npos);
}

TEST_F(ReadPinTest, RefusesEmptyMissingAndIrregularFiles) {
  EXPECT_EQ(read_pin(write("empty", "\n", 0600), "").error().code, Code::kConfig);
  auto missing = read_pin(dir_ + "/absent", "");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Code::kConfig);
  EXPECT_NE(missing.error().message.find(dir_ + "/absent"), std::string::npos);
  ::chmod(dir_.c_str(), 0700);
  EXPECT_EQ(read_pin(dir_, "").error().code, Code::kConfig);
  EXPECT_EQ(read_pin(write("huge", std::string(5000, '1'), 0600), "").error().code, Code::kConfig);
}

TEST_F(ReadPinTest, ReadsTheEnvironment) {
  ::setenv("SIGNET_TEST_PIN", "from-env\n", 1);
  auto pin = read_pin("", "SIGNET_TEST_PIN");
  ::unsetenv("SIGNET_TEST_PIN");
  ASSERT_TRUE(pin.ok()) << pin.error().message;
  EXPECT_EQ(pin->view(), "from-env");

  auto missing = read_pin("", "SIGNET_TEST_PIN");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Code::kConfig);
  EXPECT_NE(missing.error().message.find("SIGNET_TEST_PIN"), std::string::npos);
}

TEST_F(ReadPinTest, NeedsExactlyOneSource) {
  EXPECT_EQ(read_pin("", "").error().code, Code::kConfig);
  EXPECT_EQ(read_pin(write("pin", "1234", 0600), "SIGNET_TEST_PIN").error().code, Code::kConfig);
}

}  // namespace
}  // namespace signet::hsm
