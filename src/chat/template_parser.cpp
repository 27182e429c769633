// Chat-template parser (see template_parser.h): recursive descent over the lexer's tokens, same
// grammar and precedence as jinja2's parser (filters and tests bind tighter than operators).
#include "chat/template_parser.h"

#include "chat/template_lexer.h"
#include "chat/template_parser_impl.h"

namespace semantic::chat::tmpl {

// Parses until one of `end_tags` opens a block (consumes "{%" and the tag name, sets *which).
bool Parser::ParseBody(Body* out, std::initializer_list<std::string_view> end_tags, std::string* which) {
  if (++depth_ > kMaxParseDepth) return Fail(Cur().offset, "template nested too deeply");
  struct Exit {
    int* d;
    ~Exit() { --*d; }
  } exit{&depth_};
  while (true) {
    const Token& t = Cur();
    switch (t.kind) {
      case TokKind::kText: {
        auto s = MakeStmt(StmtKind::kText, t.offset);
        s->text = t.text;
        out->push_back(std::move(s));
        Advance();
        break;
      }
      case TokKind::kVarBegin: {
        auto s = MakeStmt(StmtKind::kOutput, t.offset);
        Advance();
        s->expr = ParseTuple(true, false);
        if (!s->expr) return false;
        if (Cur().kind != TokKind::kVarEnd) return FailHere("end of print statement");
        Advance();
        out->push_back(std::move(s));
        break;
      }
      case TokKind::kBlockBegin: {
        const Token& name = Peek();
        if (name.kind != TokKind::kName) return Fail(name.offset, "expected a tag name");
        for (std::string_view end : end_tags) {
          if (name.text == end) {
            *which = name.text;
            Advance();
            Advance();
            return true;
          }
        }
        if (!ParseStatement(out, end_tags)) return false;
        break;
      }
      case TokKind::kEof: {
        if (end_tags.size() == 0) return true;
        return Fail(t.offset, "unexpected end of template, expected " + TagList(end_tags));
      }
      default:
        return Fail(t.offset, "unexpected " + Describe(t));
    }
  }
}

std::string Parser::TagList(std::initializer_list<std::string_view> tags) {
  std::string s;
  for (std::string_view t : tags) {
    if (!s.empty()) s += " or ";
    s += "'" + std::string(t) + "'";
  }
  return s;
}

bool Parser::ParseStatement(Body* out, std::initializer_list<std::string_view> enclosing_ends) {
  const size_t offset = Cur().offset;
  Advance();  // {%
  const std::string tag = Cur().text;
  const size_t tag_offset = Cur().offset;
  Advance();  // tag name
  if (tag == "if") return ParseIf(out, offset);
  if (tag == "for") return ParseFor(out, offset);
  if (tag == "set") return ParseSet(out, offset);
  if (tag == "macro") return ParseMacro(out, offset);
  if (tag == "filter") return ParseFilterBlock(out, offset);
  if (tag == "with") return ParseWith(out, offset);
  if (tag == "generation") {
    auto s = MakeStmt(StmtKind::kScope, offset);
    std::string which;
    if (!ExpectBlockEnd() || !ParseBody(&s->body, {"endgeneration"}, &which) || !ExpectBlockEnd()) {
      return false;
    }
    out->push_back(std::move(s));
    return true;
  }
  if (tag == "break" || tag == "continue") {
    if (loop_depth_ == 0) return Fail(tag_offset, "'" + tag + "' outside of a for loop");
    out->push_back(MakeStmt(tag == "break" ? StmtKind::kBreak : StmtKind::kContinue, offset));
    return ExpectBlockEnd();
  }
  static const char* kUnsupportedTags[] = {"extends", "block",  "include", "import", "from",
                                            "call",    "autoescape", "do", "trans", "recursive"};
  for (const char* u : kUnsupportedTags) {
    if (tag == u) return Unsupported(tag_offset, "unsupported tag '" + tag + "'");
  }
  std::string msg = "unknown tag '" + tag + "'";
  if (enclosing_ends.size() > 0) msg += " (expected " + TagList(enclosing_ends) + ")";
  return Fail(tag_offset, msg);
}

bool Parser::ParseIf(Body* out, size_t offset) {
  auto s = MakeStmt(StmtKind::kIf, offset);
  Branch branch;
  branch.cond = ParseTuple(false, false);
  if (!branch.cond || !ExpectBlockEnd()) return false;
  while (true) {
    std::string which;
    if (!ParseBody(&branch.body, {"elif", "else", "endif"}, &which)) return false;
    s->branches.push_back(std::move(branch));
    branch = Branch();
    if (which == "elif") {
      branch.cond = ParseTuple(false, false);
      if (!branch.cond || !ExpectBlockEnd()) return false;
      continue;
    }
    if (which == "else") {
      if (!ExpectBlockEnd() || !ParseBody(&s->else_body, {"endif"}, &which)) return false;
    }
    if (!ExpectBlockEnd()) return false;
    break;
  }
  out->push_back(std::move(s));
  return true;
}

// name | name, name | (name, name)
bool Parser::ParseTargets(std::vector<std::string>* targets) {
  const bool parens = SkipOp("(");
  do {
    std::string name;
    if (!ExpectName(&name)) return false;
    targets->push_back(std::move(name));
  } while (SkipOp(",") && Cur().kind == TokKind::kName && !IsName("in"));
  if (parens && !ExpectOp(")")) return false;
  return true;
}

bool Parser::ParseFor(Body* out, size_t offset) {
  auto s = MakeStmt(StmtKind::kFor, offset);
  if (!ParseTargets(&s->targets)) return false;
  if (!SkipName("in")) return FailHere("'in'");
  s->expr = ParseOr();
  if (!s->expr) return false;
  if (IsOp(",")) {
    auto tuple = Make(ExprKind::kTuple, s->expr->offset);
    tuple->children.push_back(std::move(s->expr));
    while (SkipOp(",")) {
      if (Cur().kind == TokKind::kBlockEnd || IsName("if")) break;
      ExprPtr e = ParseOr();
      if (!e) return false;
      tuple->children.push_back(std::move(e));
    }
    s->expr = std::move(tuple);
  }
  if (SkipName("if")) {
    s->filter = ParseExpression();
    if (!s->filter) return false;
  }
  if (IsName("recursive")) return Unsupported(Cur().offset, "unsupported recursive for loop");
  if (!ExpectBlockEnd()) return false;
  ++loop_depth_;
  std::string which;
  bool ok = ParseBody(&s->body, {"endfor", "else"}, &which);
  if (ok && which == "else") {
    --loop_depth_;  // break/continue in the else block belong to an outer loop
    ok = ExpectBlockEnd() && ParseBody(&s->else_body, {"endfor"}, &which);
    ++loop_depth_;
  }
  --loop_depth_;
  if (!ok || !ExpectBlockEnd()) return false;
  out->push_back(std::move(s));
  return true;
}

bool Parser::ParseSet(Body* out, size_t offset) {
  auto s = MakeStmt(StmtKind::kSet, offset);
  std::string name;
  if (!ExpectName(&name)) return false;
  s->targets.push_back(name);
  if (SkipOp(".")) {
    if (!ExpectName(&s->attr)) return false;
  } else {
    while (SkipOp(",")) {
      if (!ExpectName(&name)) return false;
      s->targets.push_back(name);
    }
  }
  if (SkipOp("=")) {
    s->expr = ParseTuple(true, false);
    if (!s->expr || !ExpectBlockEnd()) return false;
    out->push_back(std::move(s));
    return true;
  }
  if (IsOp("|")) return Unsupported(Cur().offset, "unsupported filtered block assignment");
  if (Cur().kind != TokKind::kBlockEnd || s->targets.size() != 1 || !s->attr.empty()) {
    return FailHere("'='");
  }
  Advance();
  s->kind = StmtKind::kSetBlock;
  std::string which;
  if (!ParseBody(&s->body, {"endset"}, &which) || !ExpectBlockEnd()) return false;
  out->push_back(std::move(s));
  return true;
}

bool Parser::ParseMacro(Body* out, size_t offset) {
  auto s = MakeStmt(StmtKind::kMacro, offset);
  if (!ExpectName(&s->name) || !ExpectOp("(")) return false;
  while (!IsOp(")")) {
    if (!s->params.empty() && !ExpectOp(",")) return false;
    if (IsOp(")")) break;
    std::string param;
    if (!ExpectName(&param)) return false;
    s->params.push_back(param);
    ExprPtr def;
    if (SkipOp("=")) {
      def = ParseExpression();
      if (!def) return false;
    } else if (!s->defaults.empty() && s->defaults.back()) {
      return Fail(Cur().offset, "non-default argument follows default argument");
    }
    s->defaults.push_back(std::move(def));
  }
  Advance();  // )
  if (!ExpectBlockEnd()) return false;
  const int saved_loops = loop_depth_;
  loop_depth_ = 0;
  std::string which;
  const bool ok = ParseBody(&s->body, {"endmacro"}, &which);
  loop_depth_ = saved_loops;
  if (!ok) return false;
  if (Cur().kind == TokKind::kName && Cur().text == s->name) Advance();
  if (!ExpectBlockEnd()) return false;
  out->push_back(std::move(s));
  return true;
}

bool Parser::ParseFilterBlock(Body* out, size_t offset) {
  auto s = MakeStmt(StmtKind::kFilterBlock, offset);
  do {
    ExprPtr f = ParseFilter(nullptr);
    if (!f) return false;
    s->filters.push_back(std::move(f));
  } while (SkipOp("|"));
  std::string which;
  if (!ExpectBlockEnd() || !ParseBody(&s->body, {"endfilter"}, &which) || !ExpectBlockEnd()) {
    return false;
  }
  out->push_back(std::move(s));
  return true;
}

bool Parser::ParseWith(Body* out, size_t offset) {
  auto s = MakeStmt(StmtKind::kWith, offset);
  while (Cur().kind != TokKind::kBlockEnd) {
    if (!s->targets.empty() && !ExpectOp(",")) return false;
    std::string name;
    if (!ExpectName(&name) || !ExpectOp("=")) return false;
    ExprPtr value = ParseExpression();
    if (!value) return false;
    s->targets.push_back(name);
    s->defaults.push_back(std::move(value));
  }
  std::string which;
  if (!ExpectBlockEnd() || !ParseBody(&s->body, {"endwith"}, &which) || !ExpectBlockEnd()) {
    return false;
  }
  out->push_back(std::move(s));
  return true;
}

Expected<std::unique_ptr<Program>> ParseProgram(std::string_view source) {
  auto program = std::make_unique<Program>();
  program->source = NormalizeSource(source);
  ASSIGN_OR_RETURN(std::vector<Token> toks, Lex(program->source));
  Parser parser(program->source, std::move(toks));
  ASSIGN_OR_RETURN(program->body, parser.Run());
  return program;
}

}  // namespace semantic::chat::tmpl
