#include "aws/auth/credentials.h"

namespace cloudaudit::aws {

std::string Credentials::Describe() const {
  std::string id = access_key_id.size() > 8
                       ? access_key_id.substr(0, 4) + "…" + access_key_id.substr(access_key_id.size() - 4)
                       : std::string("(short key id)");
  return id + " from " + (source.empty() ? std::string("unknown source") : source);
}

}  // namespace cloudaudit::aws
