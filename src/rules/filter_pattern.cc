#include "rules/filter_pattern.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>
#include <vector>

#include "base/strings.h"

namespace cloudaudit::rules {

namespace {

struct Atom {
  std::string selector, op, value;
  bool operator<(const Atom& o) const { return std::tie(selector, op, value) < std::tie(o.selector, o.op, o.value); }
  bool operator==(const Atom& o) const { return selector == o.selector && op == o.op && value == o.value; }
};

struct Node {
  enum Kind { kAtom, kAnd, kOr } kind = kAtom;
  Atom atom;
  std::vector<Node> kids;
};

constexpr int kMaxDepth = 100;

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  // The whole pattern: `{ expr }`.
  std::optional<Node> Parse() {
    Skip();
    if (!Eat('{')) return Fail("a JSON filter pattern starts with `{`");
    auto e = Expr(0);
    if (!e) return std::nullopt;
    Skip();
    if (!Eat('}')) return Fail("expected `}`, `&&` or `||`");
    Skip();
    if (i_ != s_.size()) return Fail("text after the closing `}`");
    return e;
  }

  const std::string& error() const { return error_; }

 private:
  std::optional<Node> Fail(std::string why) {
    if (error_.empty()) error_ = why + " (at offset " + std::to_string(i_) + ")";
    return std::nullopt;
  }
  void Skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool Eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool EatWord(std::string_view w) {
    if (s_.size() - i_ < w.size()) return false;
    for (size_t k = 0; k < w.size(); ++k)
      if (std::toupper(static_cast<unsigned char>(s_[i_ + k])) != w[k]) return false;
    size_t end = i_ + w.size();
    if (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_')) return false;
    i_ = end;
    return true;
  }
  bool EatOp(std::string_view op) {
    if (s_.substr(i_, op.size()) != op) return false;
    i_ += op.size();
    return true;
  }

  // expr := and ('||' and)*   and := unary ('&&' unary)*
  std::optional<Node> Expr(int depth) { return Chain(depth, Node::kOr); }

  std::optional<Node> Chain(int depth, Node::Kind kind) {
    if (depth > kMaxDepth) return Fail("nested too deeply");
    const std::string_view op = kind == Node::kOr ? "||" : "&&";
    auto operand = [&] { return kind == Node::kOr ? Chain(depth, Node::kAnd) : Unary(depth); };
    auto first = operand();
    if (!first) return std::nullopt;
    Node out;
    out.kind = kind;
    out.kids.push_back(std::move(*first));
    for (Skip(); EatOp(op); Skip()) {
      auto next = operand();
      if (!next) return std::nullopt;
      out.kids.push_back(std::move(*next));
    }
    if (out.kids.size() == 1) return std::move(out.kids[0]);
    return out;
  }

  std::optional<Node> Unary(int depth) {
    Skip();
    if (Eat('(')) {
      auto e = Expr(depth + 1);
      if (!e) return std::nullopt;
      Skip();
      if (!Eat(')')) return Fail("expected `)`");
      return e;
    }
    return Comparison();
  }

  // selector op value | selector IS NULL|TRUE|FALSE | selector [NOT] EXISTS
  std::optional<Node> Comparison() {
    if (i_ >= s_.size() || s_[i_] != '$') return Fail("expected a `$.field` comparison or `(`");
    Node n;
    size_t start = i_;
    while (i_ < s_.size() && !std::isspace(static_cast<unsigned char>(s_[i_])) && std::string_view("=!<>()&|}").find(s_[i_]) == std::string_view::npos)
      ++i_;
    n.atom.selector = std::string(s_.substr(start, i_ - start));
    Skip();
    if (EatWord("IS")) {
      Skip();
      for (std::string_view v : {"NULL", "TRUE", "FALSE"})
        if (EatWord(v)) {
          n.atom.op = "IS";
          n.atom.value = std::string(v);
          return n;
        }
      return Fail("expected NULL, TRUE or FALSE after IS");
    }
    if (EatWord("NOT")) {
      Skip();
      if (!EatWord("EXISTS")) return Fail("expected EXISTS after NOT");
      n.atom.op = "NOT EXISTS";
      return n;
    }
    if (EatWord("EXISTS")) {
      n.atom.op = "EXISTS";
      return n;
    }
    for (std::string_view op : {"!=", "<=", ">=", "=", "<", ">"})
      if (EatOp(op)) {
        n.atom.op = std::string(op);
        break;
      }
    if (n.atom.op.empty()) return Fail("expected a comparison operator after " + n.atom.selector);
    Skip();
    auto value = Value();
    if (!value) return std::nullopt;
    n.atom.value = std::move(*value);
    return n;
  }

  std::optional<std::string> Value() {
    std::string out;
    if (Eat('"')) {
      while (i_ < s_.size() && s_[i_] != '"') {
        if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
        out += s_[i_++];
      }
      if (!Eat('"')) return Fail("unterminated quoted value"), std::nullopt;
      return out;
    }
    if (Eat('%')) {  // a regular expression: compared as its text
      out = "%";
      while (i_ < s_.size() && s_[i_] != '%') out += s_[i_++];
      if (!Eat('%')) return Fail("unterminated %regex%"), std::nullopt;
      return out + "%";
    }
    while (i_ < s_.size() && !std::isspace(static_cast<unsigned char>(s_[i_])) && s_[i_] != ')' && s_[i_] != '}' &&
           s_.substr(i_, 2) != "&&" && s_.substr(i_, 2) != "||")
      out += s_[i_++];
    if (out.empty()) return Fail("expected a value"), std::nullopt;
    return out;
  }

  std::string_view s_;
  size_t i_ = 0;
  std::string error_;
};

// `pattern` (with `*` wildcards) matches all of `text`, where a `*` in text
// is an ordinary character: true means every value `text` stands for (its
// own `*` expanded) matches `pattern` too, since only a pattern `*` can take
// it in.
bool Glob(std::string_view pattern, std::string_view text) {
  return WildcardMatch(pattern, text, [](char p, char t) { return p == t && t != '*'; });
}

// Every event that satisfies `a` satisfies `b`.
bool Implies(const Atom& a, const Atom& b) {
  if (a == b) return true;
  return a.selector == b.selector && a.op == "=" && b.op == "=" && b.value.find('*') != std::string::npos && Glob(b.value, a.value);
}

constexpr size_t kMaxTerms = 4096;

// Disjunctive normal form: OR of AND-sets of atoms; false when too large.
bool Dnf(const Node& n, std::vector<std::vector<Atom>>& out) {
  switch (n.kind) {
    case Node::kAtom: out = {{n.atom}}; return true;
    case Node::kOr:
      out.clear();
      for (const auto& k : n.kids) {
        std::vector<std::vector<Atom>> sub;
        if (!Dnf(k, sub)) return false;
        out.insert(out.end(), sub.begin(), sub.end());
        if (out.size() > kMaxTerms) return false;
      }
      return true;
    case Node::kAnd:
      out = {{}};
      for (const auto& k : n.kids) {
        std::vector<std::vector<Atom>> sub, next;
        if (!Dnf(k, sub)) return false;
        if (out.size() * sub.size() > kMaxTerms) return false;
        for (const auto& left : out)
          for (const auto& right : sub) {
            next.push_back(left);
            next.back().insert(next.back().end(), right.begin(), right.end());
          }
        out = std::move(next);
      }
      return true;
  }
  return false;
}

// The filter's value when exactly the atoms implied by `term` hold (monotone).
bool Holds(const Node& filter, const std::vector<Atom>& term) {
  switch (filter.kind) {
    case Node::kAtom:
      return std::any_of(term.begin(), term.end(), [&](const Atom& a) { return Implies(a, filter.atom); });
    case Node::kAnd:
      return std::all_of(filter.kids.begin(), filter.kids.end(), [&](const Node& k) { return Holds(k, term); });
    case Node::kOr:
      return std::any_of(filter.kids.begin(), filter.kids.end(), [&](const Node& k) { return Holds(k, term); });
  }
  return false;
}

}  // namespace

std::optional<bool> FilterPatternCovers(std::string_view filter, std::string_view reference) {
  auto f = Parser(filter).Parse();
  auto r = Parser(reference).Parse();
  if (!f || !r) return std::nullopt;
  std::vector<std::vector<Atom>> terms;
  if (!Dnf(*r, terms)) return std::nullopt;
  for (const auto& term : terms)
    if (!Holds(*f, term)) return false;
  return true;
}

std::optional<std::string> FilterPatternError(std::string_view pattern) {
  Parser p(pattern);
  if (p.Parse()) return std::nullopt;
  return p.error();
}

}  // namespace cloudaudit::rules
