// Internal to the chat-template parser: the Parser class, whose statement rules live in
// template_parser.cpp and expression rules (jinja2 precedence) in template_expr_parser.cpp.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "chat/template_ast.h"
#include "chat/template_lexer.h"

namespace semantic::chat::tmpl {

constexpr int kMaxParseDepth = 200;  // nesting of blocks and expressions

class Parser {
 public:
  Parser(std::string_view src, std::vector<Token> toks) : src_(src), toks_(std::move(toks)) {}

  Expected<Body> Run() {
    Body body;
    std::string which;
    if (!ParseBody(&body, {}, &which)) return error_;
    return body;
  }

 private:
  // ---- token helpers -------------------------------------------------------------------------
  const Token& Cur() const { return toks_[i_]; }
  const Token& Peek(size_t k = 1) const { return toks_[std::min(i_ + k, toks_.size() - 1)]; }
  void Advance() {
    if (i_ + 1 < toks_.size()) ++i_;
  }
  bool IsOp(std::string_view op) const { return Cur().kind == TokKind::kOp && Cur().text == op; }
  bool IsName(std::string_view n) const { return Cur().kind == TokKind::kName && Cur().text == n; }
  bool SkipOp(std::string_view op) {
    if (!IsOp(op)) return false;
    Advance();
    return true;
  }
  bool SkipName(std::string_view n) {
    if (!IsName(n)) return false;
    Advance();
    return true;
  }

  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case TokKind::kText: return "template text";
      case TokKind::kVarBegin: return "'{{'";
      case TokKind::kVarEnd: return "end of print statement";
      case TokKind::kBlockBegin: return "'{%'";
      case TokKind::kBlockEnd: return "end of statement block";
      case TokKind::kString: return "string literal";
      case TokKind::kInt:
      case TokKind::kFloat: return "number";
      case TokKind::kEof: return "end of template";
      default: return "'" + t.text + "'";
    }
  }

  bool Fail(size_t offset, const std::string& msg) {
    if (error_.ok()) error_ = InvalidArgument(SourcePosition(src_, offset) + ": " + msg);
    return false;
  }
  bool Unsupported(size_t offset, const std::string& msg) {
    if (error_.ok()) error_ = Unimplemented(SourcePosition(src_, offset) + ": " + msg);
    return false;
  }
  bool FailHere(const std::string& expected) {
    return Fail(Cur().offset, "expected " + expected + ", got " + Describe(Cur()));
  }
  bool ExpectOp(std::string_view op) {
    if (SkipOp(op)) return true;
    return FailHere("'" + std::string(op) + "'");
  }
  bool ExpectBlockEnd() {
    if (Cur().kind == TokKind::kBlockEnd) {
      Advance();
      return true;
    }
    return FailHere("end of statement block");
  }
  bool ExpectName(std::string* out) {
    if (Cur().kind != TokKind::kName) return FailHere("a name");
    *out = Cur().text;
    Advance();
    return true;
  }

  static ExprPtr Make(ExprKind kind, size_t offset) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->offset = offset;
    return e;
  }
  static StmtPtr MakeStmt(StmtKind kind, size_t offset) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->offset = offset;
    return s;
  }

  // ---- statements (template_parser.cpp) ----
  bool ParseBody(Body* out, std::initializer_list<std::string_view> end_tags, std::string* which);
  static std::string TagList(std::initializer_list<std::string_view> tags);
  bool ParseStatement(Body* out, std::initializer_list<std::string_view> enclosing_ends);
  bool ParseIf(Body* out, size_t offset);
  bool ParseTargets(std::vector<std::string>* targets);
  bool ParseFor(Body* out, size_t offset);
  bool ParseSet(Body* out, size_t offset);
  bool ParseMacro(Body* out, size_t offset);
  bool ParseFilterBlock(Body* out, size_t offset);
  bool ParseWith(Body* out, size_t offset);

  // ---- expressions (template_expr_parser.cpp) ----
  ExprPtr ParseExpression() { return ParseCondExpr(); }
  bool IsTupleEnd() const;
  ExprPtr ParseTuple(bool with_condexpr, bool explicit_parens);
  ExprPtr ParseCondExpr();
  ExprPtr Binary(ExprKind kind, std::string op, ExprPtr l, ExprPtr r, size_t offset);
  ExprPtr ParseOr();
  ExprPtr ParseAnd();
  ExprPtr ParseNot();
  ExprPtr ParseCompare();
  ExprPtr ParseMath1();
  ExprPtr ParseConcat();
  ExprPtr ParseMath2();
  ExprPtr ParsePow();
  bool Enter();
  ExprPtr ParseUnary(bool with_filter);
  ExprPtr ParsePrimary();
  ExprPtr ParsePostfix(ExprPtr node);
  ExprPtr ParseSubscript(ExprPtr node, size_t offset);
  bool ParseCallArgs(std::vector<Arg>* args);
  ExprPtr ParseCall(ExprPtr callee);
  ExprPtr ParseFilterExpr(ExprPtr node);
  bool ParseDottedName(std::string* name);
  ExprPtr ParseFilter(ExprPtr input);
  ExprPtr ParseTest(ExprPtr input);

  std::string_view src_;
  std::vector<Token> toks_;
  size_t i_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  Status error_;
};

}  // namespace semantic::chat::tmpl
