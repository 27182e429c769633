// Chat-template parser (see template_parser.h): recursive descent over the lexer's tokens, same
// grammar and precedence as jinja2's parser (filters and tests bind tighter than operators).
#include "chat/template_parser.h"

#include <algorithm>
#include <initializer_list>

#include "chat/template_lexer.h"

namespace semantic::chat::tmpl {
namespace {

constexpr int kMaxDepth = 200;

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

  // ---- statements ----------------------------------------------------------------------------
  // Parses until one of `end_tags` opens a block (consumes "{%" and the tag name, sets *which).
  bool ParseBody(Body* out, std::initializer_list<std::string_view> end_tags, std::string* which) {
    if (++depth_ > kMaxDepth) return Fail(Cur().offset, "template nested too deeply");
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

  static std::string TagList(std::initializer_list<std::string_view> tags) {
    std::string s;
    for (std::string_view t : tags) {
      if (!s.empty()) s += " or ";
      s += "'" + std::string(t) + "'";
    }
    return s;
  }

  bool ParseStatement(Body* out, std::initializer_list<std::string_view> enclosing_ends) {
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

  bool ParseIf(Body* out, size_t offset) {
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
  bool ParseTargets(std::vector<std::string>* targets) {
    const bool parens = SkipOp("(");
    do {
      std::string name;
      if (!ExpectName(&name)) return false;
      targets->push_back(std::move(name));
    } while (SkipOp(",") && Cur().kind == TokKind::kName && !IsName("in"));
    if (parens && !ExpectOp(")")) return false;
    return true;
  }

  bool ParseFor(Body* out, size_t offset) {
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

  bool ParseSet(Body* out, size_t offset) {
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

  bool ParseMacro(Body* out, size_t offset) {
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

  bool ParseFilterBlock(Body* out, size_t offset) {
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

  bool ParseWith(Body* out, size_t offset) {
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

  // ---- expressions ---------------------------------------------------------------------------
  bool IsTupleEnd() const {
    return Cur().kind == TokKind::kVarEnd || Cur().kind == TokKind::kBlockEnd || IsOp(")");
  }

  ExprPtr ParseTuple(bool with_condexpr, bool explicit_parens) {
    const size_t offset = Cur().offset;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty() && !ExpectOp(",")) return nullptr;
      if (IsTupleEnd()) break;
      ExprPtr e = with_condexpr ? ParseExpression() : ParseOr();
      if (!e) return nullptr;
      items.push_back(std::move(e));
      if (IsOp(",")) {
        is_tuple = true;
      } else {
        break;
      }
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) {
        FailHere("an expression");
        return nullptr;
      }
    }
    auto t = Make(ExprKind::kTuple, offset);
    t->children = std::move(items);
    return t;
  }

  ExprPtr ParseExpression() { return ParseCondExpr(); }

  ExprPtr ParseCondExpr() {
    ExprPtr e = ParseOr();
    while (e && IsName("if")) {
      const size_t offset = Cur().offset;
      Advance();
      auto c = Make(ExprKind::kCond, offset);
      ExprPtr cond = ParseOr();
      if (!cond) return nullptr;
      ExprPtr otherwise;
      if (SkipName("else")) {
        otherwise = ParseCondExpr();
        if (!otherwise) return nullptr;
      }
      c->children.push_back(std::move(cond));
      c->children.push_back(std::move(e));
      c->children.push_back(std::move(otherwise));
      e = std::move(c);
    }
    return e;
  }

  ExprPtr Binary(ExprKind kind, std::string op, ExprPtr l, ExprPtr r, size_t offset) {
    if (!l || !r) return nullptr;
    auto b = Make(kind, offset);
    b->name = std::move(op);
    b->children.push_back(std::move(l));
    b->children.push_back(std::move(r));
    return b;
  }

  ExprPtr ParseOr() {
    ExprPtr e = ParseAnd();
    while (e && IsName("or")) {
      const size_t offset = Cur().offset;
      Advance();
      e = Binary(ExprKind::kOr, "or", std::move(e), ParseAnd(), offset);
    }
    return e;
  }

  ExprPtr ParseAnd() {
    ExprPtr e = ParseNot();
    while (e && IsName("and")) {
      const size_t offset = Cur().offset;
      Advance();
      e = Binary(ExprKind::kAnd, "and", std::move(e), ParseNot(), offset);
    }
    return e;
  }

  ExprPtr ParseNot() {
    if (IsName("not")) {
      auto n = Make(ExprKind::kNot, Cur().offset);
      Advance();
      if (!Enter()) return nullptr;
      ExprPtr inner = ParseNot();
      --depth_;
      if (!inner) return nullptr;
      n->children.push_back(std::move(inner));
      return n;
    }
    return ParseCompare();
  }

  ExprPtr ParseCompare() {
    const size_t offset = Cur().offset;
    ExprPtr first = ParseMath1();
    if (!first) return nullptr;
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (Cur().kind == TokKind::kOp &&
          (Cur().text == "==" || Cur().text == "!=" || Cur().text == "<" || Cur().text == "<=" ||
           Cur().text == ">" || Cur().text == ">=")) {
        op = Cur().text;
        Advance();
      } else if (IsName("in")) {
        op = "in";
        Advance();
      } else if (IsName("not") && Peek().kind == TokKind::kName && Peek().text == "in") {
        op = "notin";
        Advance();
        Advance();
      } else {
        break;
      }
      if (!cmp) {
        cmp = Make(ExprKind::kCompare, offset);
        cmp->children.push_back(std::move(first));
      }
      ExprPtr rhs = ParseMath1();
      if (!rhs) return nullptr;
      cmp->ops.push_back(op);
      cmp->children.push_back(std::move(rhs));
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  ExprPtr ParseMath1() {
    ExprPtr e = ParseConcat();
    while (e && (IsOp("+") || IsOp("-"))) {
      const size_t offset = Cur().offset;
      std::string op = Cur().text;
      Advance();
      e = Binary(ExprKind::kBinary, op, std::move(e), ParseConcat(), offset);
    }
    return e;
  }

  ExprPtr ParseConcat() {
    ExprPtr e = ParseMath2();
    while (e && IsOp("~")) {
      const size_t offset = Cur().offset;
      Advance();
      e = Binary(ExprKind::kBinary, "~", std::move(e), ParseMath2(), offset);
    }
    return e;
  }

  ExprPtr ParseMath2() {
    ExprPtr e = ParsePow();
    while (e && (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%"))) {
      const size_t offset = Cur().offset;
      std::string op = Cur().text;
      Advance();
      e = Binary(ExprKind::kBinary, op, std::move(e), ParsePow(), offset);
    }
    return e;
  }

  ExprPtr ParsePow() {
    ExprPtr e = ParseUnary(true);
    while (e && IsOp("**")) {
      const size_t offset = Cur().offset;
      Advance();
      e = Binary(ExprKind::kBinary, "**", std::move(e), ParseUnary(true), offset);
    }
    return e;
  }

  bool Enter() {
    if (++depth_ > kMaxDepth) {
      Fail(Cur().offset, "expression nested too deeply");
      return false;
    }
    return true;
  }

  ExprPtr ParseUnary(bool with_filter) {
    if (!Enter()) return nullptr;
    struct Exit {
      int* d;
      ~Exit() { --*d; }
    } exit{&depth_};
    ExprPtr node;
    if (IsOp("-") || IsOp("+")) {
      node = Make(ExprKind::kUnary, Cur().offset);
      node->name = Cur().text;
      Advance();
      ExprPtr inner = ParseUnary(false);
      if (!inner) return nullptr;
      node->children.push_back(std::move(inner));
    } else {
      node = ParsePrimary();
    }
    node = ParsePostfix(std::move(node));
    if (with_filter) node = ParseFilterExpr(std::move(node));
    return node;
  }

  ExprPtr ParsePrimary() {
    const Token& t = Cur();
    const size_t offset = t.offset;
    if (t.kind == TokKind::kName) {
      auto e = Make(ExprKind::kLiteral, offset);
      if (t.text == "true" || t.text == "True") e->literal = Value(true);
      else if (t.text == "false" || t.text == "False") e->literal = Value(false);
      else if (t.text == "none" || t.text == "None") e->literal = Value(nullptr);
      else {
        e->kind = ExprKind::kName;
        e->name = t.text;
      }
      Advance();
      return e;
    }
    if (t.kind == TokKind::kString) {
      std::string s;
      while (Cur().kind == TokKind::kString) {
        s += Cur().text;
        Advance();
      }
      auto e = Make(ExprKind::kLiteral, offset);
      e->literal = Value(std::move(s));
      return e;
    }
    if (t.kind == TokKind::kInt || t.kind == TokKind::kFloat) {
      auto e = Make(ExprKind::kLiteral, offset);
      e->literal = t.kind == TokKind::kInt ? Value(t.int_value) : Value(t.float_value);
      Advance();
      return e;
    }
    if (SkipOp("(")) {
      ExprPtr e = ParseTuple(true, true);
      if (!e || !ExpectOp(")")) return nullptr;
      return e;
    }
    if (IsOp("[")) {
      Advance();
      auto e = Make(ExprKind::kList, offset);
      while (!IsOp("]")) {
        if (!e->children.empty() && !ExpectOp(",")) return nullptr;
        if (IsOp("]")) break;
        ExprPtr item = ParseExpression();
        if (!item) return nullptr;
        e->children.push_back(std::move(item));
      }
      Advance();
      return e;
    }
    if (IsOp("{")) {
      Advance();
      auto e = Make(ExprKind::kDict, offset);
      while (!IsOp("}")) {
        if (!e->children.empty() && !ExpectOp(",")) return nullptr;
        if (IsOp("}")) break;
        ExprPtr key = ParseExpression();
        if (!key || !ExpectOp(":")) return nullptr;
        ExprPtr value = ParseExpression();
        if (!value) return nullptr;
        e->children.push_back(std::move(key));
        e->children.push_back(std::move(value));
      }
      Advance();
      return e;
    }
    FailHere("an expression");
    return nullptr;
  }

  ExprPtr ParsePostfix(ExprPtr node) {
    while (node) {
      const size_t offset = Cur().offset;
      if (SkipOp(".")) {
        if (Cur().kind == TokKind::kName) {
          auto a = Make(ExprKind::kAttr, offset);
          a->name = Cur().text;
          a->children.push_back(std::move(node));
          Advance();
          node = std::move(a);
        } else if (Cur().kind == TokKind::kInt) {
          auto idx = Make(ExprKind::kIndex, offset);
          auto lit = Make(ExprKind::kLiteral, Cur().offset);
          lit->literal = Value(Cur().int_value);
          Advance();
          idx->children.push_back(std::move(node));
          idx->children.push_back(std::move(lit));
          node = std::move(idx);
        } else {
          FailHere("an attribute name");
          return nullptr;
        }
      } else if (SkipOp("[")) {
        node = ParseSubscript(std::move(node), offset);
      } else if (IsOp("(")) {
        node = ParseCall(std::move(node));
      } else {
        break;
      }
    }
    return node;
  }

  ExprPtr ParseSubscript(ExprPtr node, size_t offset) {
    ExprPtr parts[3];
    bool is_slice = false;
    if (!IsOp(":")) {
      parts[0] = ParseExpression();
      if (!parts[0]) return nullptr;
    }
    if (SkipOp(":")) {
      is_slice = true;
      if (!IsOp("]") && !IsOp(":")) {
        parts[1] = ParseExpression();
        if (!parts[1]) return nullptr;
      }
      if (SkipOp(":") && !IsOp("]")) {
        parts[2] = ParseExpression();
        if (!parts[2]) return nullptr;
      }
    }
    if (IsOp(",")) {
      Unsupported(Cur().offset, "unsupported tuple subscript");
      return nullptr;
    }
    if (!ExpectOp("]")) return nullptr;
    auto e = Make(is_slice ? ExprKind::kSlice : ExprKind::kIndex, offset);
    e->children.push_back(std::move(node));
    e->children.push_back(std::move(parts[0]));
    if (is_slice) {
      e->children.push_back(std::move(parts[1]));
      e->children.push_back(std::move(parts[2]));
    }
    return e;
  }

  bool ParseCallArgs(std::vector<Arg>* args) {
    if (!ExpectOp("(")) return false;
    bool seen_kw = false;
    while (!IsOp(")")) {
      if (!args->empty() && !ExpectOp(",")) return false;
      if (IsOp(")")) break;
      if (IsOp("*") || IsOp("**")) {
        return Unsupported(Cur().offset, "unsupported call syntax '" + Cur().text + "'");
      }
      Arg arg;
      if (Cur().kind == TokKind::kName && Peek().kind == TokKind::kOp && Peek().text == "=") {
        arg.name = Cur().text;
        Advance();
        Advance();
        seen_kw = true;
      } else if (seen_kw) {
        return Fail(Cur().offset, "positional argument follows keyword argument");
      }
      arg.value = ParseExpression();
      if (!arg.value) return false;
      args->push_back(std::move(arg));
    }
    Advance();  // )
    return true;
  }

  ExprPtr ParseCall(ExprPtr callee) {
    auto c = Make(ExprKind::kCall, Cur().offset);
    c->children.push_back(std::move(callee));
    if (!ParseCallArgs(&c->args)) return nullptr;
    return c;
  }

  ExprPtr ParseFilterExpr(ExprPtr node) {
    while (node) {
      if (SkipOp("|")) {
        node = ParseFilter(std::move(node));
      } else if (IsName("is")) {
        node = ParseTest(std::move(node));
      } else if (IsOp("(")) {
        node = ParseCall(std::move(node));
      } else {
        break;
      }
    }
    return node;
  }

  bool ParseDottedName(std::string* name) {
    if (!ExpectName(name)) return false;
    while (IsOp(".") && Peek().kind == TokKind::kName) {
      Advance();
      *name += "." + Cur().text;
      Advance();
    }
    return true;
  }

  ExprPtr ParseFilter(ExprPtr input) {
    auto f = Make(ExprKind::kFilter, Cur().offset);
    if (!ParseDottedName(&f->name)) return nullptr;
    if (!IsSupportedFilter(f->name)) {
      Unsupported(f->offset, "unsupported filter '" + f->name + "'");
      return nullptr;
    }
    f->children.push_back(std::move(input));
    if (IsOp("(") && !ParseCallArgs(&f->args)) return nullptr;
    return f;
  }

  ExprPtr ParseTest(ExprPtr input) {
    Advance();  // is
    auto t = Make(ExprKind::kTest, Cur().offset);
    t->negated = SkipName("not");
    const size_t name_offset = Cur().offset;
    if (!ParseDottedName(&t->name)) return nullptr;
    if (!IsSupportedTest(t->name)) {
      Unsupported(name_offset, "unsupported test '" + t->name + "'");
      return nullptr;
    }
    t->children.push_back(std::move(input));
    const TokKind k = Cur().kind;
    if (IsOp("(")) {
      if (!ParseCallArgs(&t->args)) return nullptr;
    } else if ((k == TokKind::kName || k == TokKind::kString || k == TokKind::kInt ||
                k == TokKind::kFloat || IsOp("[") || IsOp("{")) &&
               !IsName("else") && !IsName("or") && !IsName("and")) {
      if (IsName("is")) {
        Fail(Cur().offset, "cannot chain multiple tests with 'is'");
        return nullptr;
      }
      Arg arg;
      arg.value = ParsePostfix(ParsePrimary());
      if (!arg.value) return nullptr;
      t->args.push_back(std::move(arg));
    }
    return t;
  }

  std::string_view src_;
  std::vector<Token> toks_;
  size_t i_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  Status error_;
};

}  // namespace

Expected<std::unique_ptr<Program>> ParseProgram(std::string_view source) {
  auto program = std::make_unique<Program>();
  program->source = NormalizeSource(source);
  ASSIGN_OR_RETURN(std::vector<Token> toks, Lex(program->source));
  Parser parser(program->source, std::move(toks));
  ASSIGN_OR_RETURN(program->body, parser.Run());
  return program;
}

}  // namespace semantic::chat::tmpl
