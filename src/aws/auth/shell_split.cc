#include "aws/auth/shell_split.h"

namespace cloudaudit::aws {

namespace {

bool IsShlexSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

Result<std::vector<std::string>> ShellSplit(std::string_view text) {
  enum class State { kBetween, kWord, kSingle, kDouble, kEscape };
  std::vector<std::string> words;
  std::string word;
  bool quoted = false;  // the current word had quotes, so "" still yields a word
  State state = State::kBetween;
  State escaped_from = State::kWord;
  for (char c : text) {
    switch (state) {
      case State::kBetween:
      case State::kWord:
        if (IsShlexSpace(c)) {
          if (state == State::kWord) {
            words.push_back(std::move(word));
            word.clear();
            quoted = false;
          }
          state = State::kBetween;
        } else if (c == '\\') {
          escaped_from = State::kWord;
          state = State::kEscape;
        } else if (c == '\'') {
          state = State::kSingle;
        } else if (c == '"') {
          state = State::kDouble;
        } else {
          word += c;
          state = State::kWord;
        }
        break;
      case State::kSingle:
        quoted = true;
        if (c == '\'') {
          state = State::kWord;
        } else {
          word += c;
        }
        break;
      case State::kDouble:
        quoted = true;
        if (c == '"') {
          state = State::kWord;
        } else if (c == '\\') {
          escaped_from = State::kDouble;
          state = State::kEscape;
        } else {
          word += c;
        }
        break;
      case State::kEscape:
        // Inside double quotes only \" and \\ are escapes; elsewhere the
        // backslash stays (shlex's escapedquotes rule).
        if (escaped_from == State::kDouble && c != '"' && c != '\\') word += '\\';
        word += c;
        state = escaped_from;
        break;
    }
  }
  switch (state) {
    case State::kSingle:
    case State::kDouble:
      return MakeError(ErrorCode::kParse, "no closing quotation");
    case State::kEscape:
      return MakeError(ErrorCode::kParse, "no escaped character after the final backslash");
    case State::kWord:
      words.push_back(std::move(word));
      break;
    case State::kBetween:
      if (quoted) words.push_back(std::move(word));
      break;
  }
  return words;
}

}  // namespace cloudaudit::aws
