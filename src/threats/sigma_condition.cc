// The condition language: or < and < not < `x of` < parentheses, with
// identifiers, `1 of`/`all of`/`N of` a pattern or `them`. Recursive descent
// with a nesting limit, so hostile conditions fail cleanly.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "base/strings.h"
#include "threats/sigma_compile.h"

namespace cloudaudit::threats::internal {
namespace {

struct Token {
  enum class Kind { kWord, kOpen, kClose, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;
  size_t column = 0;  // 1-based
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Sigma identifier patterns: `*` is any run of characters.
bool NameMatches(std::string_view pattern, std::string_view name) {
  return WildcardMatch(pattern, name, [](char p, char n) { return p == n; });
}

class Parser {
 public:
  Parser(std::string_view text, const std::vector<Selection>& sels, int line, CompileContext& ctx)
      : text_(text), sels_(sels), line_(line), ctx_(ctx) {}

  bool Run(CondNode* out) {
    if (!Tokenize()) return false;
    if (tokens_.size() == 1) return Fail("the condition is empty", 1);
    if (!ParseOr(out, 0)) return false;
    if (Peek().kind != Token::Kind::kEnd) {
      return Fail(fmt::format("unexpected `{}`", Peek().kind == Token::Kind::kClose ? ")" : Peek().text),
                  Peek().column);
    }
    return true;
  }

 private:
  bool Fail(std::string message, size_t column) {
    ctx_.Problem(line_, fmt::format("condition `{}`: {} (column {})", Shorten(), message, column));
    return false;
  }
  std::string Shorten() const {
    std::string_view t = text_;
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
    if (t.size() <= 80) return std::string(t);
    return std::string(t.substr(0, 77)) + "...";
  }

  bool Tokenize() {
    for (size_t i = 0; i < text_.size();) {
      const char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
      } else if (c == '(' || c == ')') {
        tokens_.push_back({c == '(' ? Token::Kind::kOpen : Token::Kind::kClose, std::string(1, c), i + 1});
        ++i;
      } else if (c == '|') {
        return Fail(
            "aggregations (`| count() ...`, `| near ...`) are not supported: the engine matches one record at "
            "a time",
            i + 1);
      } else {
        const size_t start = i;
        while (i < text_.size() && !std::isspace(static_cast<unsigned char>(text_[i])) && text_[i] != '(' &&
               text_[i] != ')' && text_[i] != '|')
          ++i;
        tokens_.push_back({Token::Kind::kWord, std::string(text_.substr(start, i - start)), start + 1});
      }
    }
    tokens_.push_back({Token::Kind::kEnd, "", text_.size() + 1});
    return true;
  }

  const Token& Peek(size_t ahead = 0) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  bool IsWord(const Token& t, const char* word) const { return t.kind == Token::Kind::kWord && Lower(t.text) == word; }
  bool Deeper(int depth) {
    if (depth >= kMaxConditionDepth) {
      return Fail(fmt::format("nests deeper than {} levels", kMaxConditionDepth), Peek().column);
    }
    return true;
  }

  bool ParseOr(CondNode* out, int depth) {
    CondNode first;
    if (!ParseAnd(&first, depth)) return false;
    if (!IsWord(Peek(), "or")) {
      *out = std::move(first);
      return true;
    }
    out->op = CondNode::Op::kOr;
    out->children.push_back(std::move(first));
    while (IsWord(Peek(), "or")) {
      ++pos_;
      CondNode next;
      if (!ParseAnd(&next, depth)) return false;
      out->children.push_back(std::move(next));
    }
    return true;
  }

  bool ParseAnd(CondNode* out, int depth) {
    CondNode first;
    if (!ParseNot(&first, depth)) return false;
    if (!IsWord(Peek(), "and")) {
      *out = std::move(first);
      return true;
    }
    out->op = CondNode::Op::kAnd;
    out->children.push_back(std::move(first));
    while (IsWord(Peek(), "and")) {
      ++pos_;
      CondNode next;
      if (!ParseNot(&next, depth)) return false;
      out->children.push_back(std::move(next));
    }
    return true;
  }

  bool ParseNot(CondNode* out, int depth) {
    if (IsWord(Peek(), "not")) {
      if (!Deeper(depth + 1)) return false;
      ++pos_;
      CondNode inner;
      if (!ParseNot(&inner, depth + 1)) return false;
      out->op = CondNode::Op::kNot;
      out->children.push_back(std::move(inner));
      return true;
    }
    return ParsePrimary(out, depth);
  }

  bool ParsePrimary(CondNode* out, int depth) {
    const Token& t = Peek();
    if (t.kind == Token::Kind::kOpen) {
      if (!Deeper(depth + 1)) return false;
      ++pos_;
      if (!ParseOr(out, depth + 1)) return false;
      if (Peek().kind != Token::Kind::kClose) return Fail("missing `)`", Peek().column);
      ++pos_;
      return true;
    }
    if (t.kind == Token::Kind::kEnd) return Fail("ends where a search identifier was expected", t.column);
    if (t.kind == Token::Kind::kClose) return Fail("unexpected `)`", t.column);
    const std::string word = Lower(t.text);
    if (word == "and" || word == "or" || word == "of" || word == "them") {
      return Fail(fmt::format("unexpected `{}`", t.text), t.column);
    }
    // Quantifier: `1 of`, `all of`, `N of`.
    if (IsWord(Peek(1), "of")) {
      int n = 0;
      if (word == "all") {
        n = -1;
      } else if (!word.empty() && word.size() <= 6 &&
                 std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        n = std::stoi(word);
        if (n < 1) return Fail("`0 of` is always false; use 1 or more", t.column);
      } else {
        return Fail(fmt::format("`{} of`: the quantifier is `1`, `all` or a number", t.text), t.column);
      }
      pos_ += 2;
      const Token& target = Peek();
      if (target.kind != Token::Kind::kWord) return Fail("`of` needs a pattern or `them`", target.column);
      std::vector<int> matched;
      const bool them = Lower(target.text) == "them";
      for (size_t i = 0; i < sels_.size(); ++i) {
        const std::string& name = sels_[i].name;
        if (them ? (name.empty() || name[0] != '_') : NameMatches(target.text, name))
          matched.push_back(static_cast<int>(i));
      }
      if (matched.empty()) {
        return Fail(fmt::format("`{}` matches no search identifier", target.text), target.column);
      }
      if (n > static_cast<int>(matched.size())) {
        return Fail(fmt::format("`{} of {}` but only {} identifier{} match", n, target.text, matched.size(),
                                matched.size() == 1 ? "" : "s"),
                    t.column);
      }
      ++pos_;
      out->op = n == -1 ? CondNode::Op::kAnd : n == 1 ? CondNode::Op::kOr : CondNode::Op::kAtLeast;
      out->at_least = n == -1 ? static_cast<int>(matched.size()) : n;
      for (int idx : matched) {
        CondNode leaf;
        leaf.selection = idx;
        out->children.push_back(std::move(leaf));
      }
      return true;
    }
    if (word == "not") return Fail("unexpected `not`", t.column);
    for (size_t i = 0; i < sels_.size(); ++i) {
      if (sels_[i].name == t.text) {
        out->op = CondNode::Op::kSelection;
        out->selection = static_cast<int>(i);
        ++pos_;
        return true;
      }
    }
    if (t.text.find('*') != std::string::npos) {
      return Fail(fmt::format("`{}` is a pattern: write `1 of {}` or `all of {}`", t.text, t.text, t.text), t.column);
    }
    return Fail(fmt::format("`{}` is not a search identifier of this detection", t.text), t.column);
  }

  std::string_view text_;
  const std::vector<Selection>& sels_;
  int line_;
  CompileContext& ctx_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace

bool ParseCondition(std::string_view text, const std::vector<Selection>& selections, int line, CondNode* out,
                    CompileContext& ctx) {
  Parser p(text, selections, line, ctx);
  return p.Run(out);
}

}  // namespace cloudaudit::threats::internal
