#include "base/crypto.h"

#include <gtest/gtest.h>

#include "base/strings.h"

namespace cloudaudit {
namespace {

TEST(Crypto, Sha256KnownAnswers) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, HmacSha256Rfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, Md5Base64) { EXPECT_EQ(Md5Base64(""), "1B2M2Y8AsgTpgAmY7PhCfg=="); }

}  // namespace
}  // namespace cloudaudit
