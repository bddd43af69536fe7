// The AWS models compiled into the binary (see tools/embed_models.py).
#pragma once

#include <cstddef>
#include <span>

namespace cloudaudit::aws {

struct EmbeddedModel {
  const char* name;      // botocore service name ("iam"), or "__endpoints__"
  const char* version;   // API version ("2010-05-08")
  const unsigned char* data;  // zlib-compressed minified JSON
  size_t compressed_size;
  size_t raw_size;
};

std::span<const EmbeddedModel> EmbeddedModels();

}  // namespace cloudaudit::aws
