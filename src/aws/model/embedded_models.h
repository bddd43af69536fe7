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
  // A little metadata, readable without inflating the model.
  const char* signing_name;   // SigV4 service name ("elasticloadbalancing" for elb and elbv2)
  const char* target_prefix;  // json protocol X-Amz-Target prefix, or ""
  const char* protocol;       // query, ec2, json, rest-json, rest-xml
};

std::span<const EmbeddedModel> EmbeddedModels();

}  // namespace cloudaudit::aws
