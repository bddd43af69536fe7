// The AWS shared config (~/.aws/config) and credentials (~/.aws/credentials)
// files, parsed with the semantics of the AWS CLI v2: Python's
// configparser.RawConfigParser as botocore drives it, plus botocore's profile
// map ([default], [profile name], [sso-session name], [services name]) and
// its one level of nested sub-sections ("s3 =\n  addressing_style = path").
//
// What the AWS CLI does, and so what this parser does (verified against
// Python 3.11 configparser and botocore 1.29 / aws-cli v2):
//  - "key = value" and "key: value"; the key is everything before the first
//    '=' or ':', trimmed and lower-cased; values are trimmed.
//  - Lines whose first non-blank character is '#' or ';' are comments.
//    A comment after a section header ("[default] # x") is ignored, but
//    "region = us-east-1 # x" keeps "us-east-1 # x" as the value: botocore
//    does not strip inline comments. ConfigParseOptions::strip_inline_comments
//    opts into the SDK-style rule (" #"/" ;" after whitespace starts a comment).
//  - A line indented deeper than the key line continues the value
//    (joined with '\n'); blank lines inside a value are kept, trailing ones
//    dropped. A key with an empty value followed by indented "k = v" lines
//    becomes a sub-section (only '=' separates nested keys; nested keys keep
//    their case).
//  - Section names are case-sensitive and not trimmed. [DEFAULT] supplies
//    defaults to every section. A duplicate section or a duplicate key in one
//    section is an error, as in the AWS CLI (configparser strict mode);
//    ConfigParseOptions::allow_duplicates makes later ones win instead.
//  - Lines may end in LF, CRLF or CR. The file must be UTF-8.
//    Deliberate difference: a leading UTF-8 byte-order mark is skipped (Python
//    rejects the file with an opaque "no section header" error; the BOM is an
//    encoding marker, never content).
// Errors are kParse with Error.file and Error.line set. They never quote the
// offending line: a malformed line in a credentials file may hold a secret.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace cloudaudit::aws {

struct ConfigParseOptions {
  bool strip_inline_comments = false;
  bool allow_duplicates = false;
};

// One value of a section: a plain string, or a nested sub-section.
struct ConfigValue {
  std::string text;  // the value; for a sub-section the raw indented block
  bool is_subsection = false;
  std::map<std::string, std::string> subsection;  // nested "k = v" (later wins)
  int line = 0;  // line of the key, 0 for values that did not come from a file
};

// Keys are lower-cased.
using ConfigSection = std::map<std::string, ConfigValue>;

struct IniSection {
  std::string name;  // as written between the brackets
  int line = 0;
  ConfigSection values;  // [DEFAULT] keys already merged in
};

// A parsed INI file; sections in file order ([DEFAULT] is not listed).
struct IniFile {
  std::string path;
  std::vector<IniSection> sections;

  const IniSection* Find(std::string_view name) const;
};

// Parses `text`; `path` is only used for Error.file and IniFile::path.
Result<IniFile> ParseConfigFile(std::string_view text, std::string_view path,
                                const ConfigParseOptions& options = {});

// The plain string value of `key`, or nullopt when absent. A sub-section where
// a plain value is expected also reads as absent.
std::optional<std::string> GetString(const ConfigSection& section, std::string_view key);
bool HasKey(const ConfigSection& section, std::string_view key);

// Both files merged the way botocore's Session.full_config merges them.
struct SharedConfig {
  // Profiles of the config file ([default], [profile x]) plus every section of
  // the credentials file taken as a profile name verbatim; for a profile in
  // both, credentials-file keys override config-file keys one by one.
  std::map<std::string, ConfigSection> profiles;
  std::map<std::string, ConfigSection> sso_sessions;  // [sso-session name]
  std::map<std::string, ConfigSection> services;      // [services name]
  std::map<std::string, ConfigSection> other_sections;  // any other config-file section
  // The profile map of the config file alone (botocore's "config-file"
  // credential provider looks only there).
  std::map<std::string, ConfigSection> config_file_profiles;
  IniFile config_file;       // empty when the file does not exist
  IniFile credentials_file;  // ditto; its sections are the "shared-credentials-file" provider's source
  bool config_file_found = false;
  bool credentials_file_found = false;

  const ConfigSection* FindProfile(std::string_view name) const;
};

// Builds botocore's profile map from a parsed config file (section headers
// are split like shlex: [profile "my name"] names profile "my name"; a header
// that does not split into exactly two words is ignored).
void AddConfigFile(SharedConfig& shared, IniFile config_file);
// Merges the credentials file into the profiles (call after AddConfigFile).
void AddCredentialsFile(SharedConfig& shared, IniFile credentials_file);

}  // namespace cloudaudit::aws
