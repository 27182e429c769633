// Chat-template expression parser: jinja2's grammar and precedence, lowest first: conditional
// `a if c else b`, or, and, not, comparisons/in, + -, ~, * / // %, **, unary -, then postfix
// (.attr, [index/slice], call) with filters `|f` and tests `is t` binding tightest.
#include "chat/template_parser.h"
#include "chat/template_parser_impl.h"

namespace semantic::chat::tmpl {

bool Parser::IsTupleEnd() const {
  return Cur().kind == TokKind::kVarEnd || Cur().kind == TokKind::kBlockEnd || IsOp(")");
}

ExprPtr Parser::ParseTuple(bool with_condexpr, bool explicit_parens) {
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


ExprPtr Parser::ParseCondExpr() {
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

ExprPtr Parser::Binary(ExprKind kind, std::string op, ExprPtr l, ExprPtr r, size_t offset) {
  if (!l || !r) return nullptr;
  auto b = Make(kind, offset);
  b->name = std::move(op);
  b->children.push_back(std::move(l));
  b->children.push_back(std::move(r));
  return b;
}

ExprPtr Parser::ParseOr() {
  ExprPtr e = ParseAnd();
  while (e && IsName("or")) {
    const size_t offset = Cur().offset;
    Advance();
    e = Binary(ExprKind::kOr, "or", std::move(e), ParseAnd(), offset);
  }
  return e;
}

ExprPtr Parser::ParseAnd() {
  ExprPtr e = ParseNot();
  while (e && IsName("and")) {
    const size_t offset = Cur().offset;
    Advance();
    e = Binary(ExprKind::kAnd, "and", std::move(e), ParseNot(), offset);
  }
  return e;
}

ExprPtr Parser::ParseNot() {
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

ExprPtr Parser::ParseCompare() {
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

ExprPtr Parser::ParseMath1() {
  ExprPtr e = ParseConcat();
  while (e && (IsOp("+") || IsOp("-"))) {
    const size_t offset = Cur().offset;
    std::string op = Cur().text;
    Advance();
    e = Binary(ExprKind::kBinary, op, std::move(e), ParseConcat(), offset);
  }
  return e;
}

ExprPtr Parser::ParseConcat() {
  ExprPtr e = ParseMath2();
  while (e && IsOp("~")) {
    const size_t offset = Cur().offset;
    Advance();
    e = Binary(ExprKind::kBinary, "~", std::move(e), ParseMath2(), offset);
  }
  return e;
}

ExprPtr Parser::ParseMath2() {
  ExprPtr e = ParsePow();
  while (e && (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%"))) {
    const size_t offset = Cur().offset;
    std::string op = Cur().text;
    Advance();
    e = Binary(ExprKind::kBinary, op, std::move(e), ParsePow(), offset);
  }
  return e;
}

ExprPtr Parser::ParsePow() {
  ExprPtr e = ParseUnary(true);
  while (e && IsOp("**")) {
    const size_t offset = Cur().offset;
    Advance();
    e = Binary(ExprKind::kBinary, "**", std::move(e), ParseUnary(true), offset);
  }
  return e;
}

bool Parser::Enter() {
  if (++depth_ > kMaxParseDepth) {
    Fail(Cur().offset, "expression nested too deeply");
    return false;
  }
  return true;
}

ExprPtr Parser::ParseUnary(bool with_filter) {
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

ExprPtr Parser::ParsePrimary() {
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

ExprPtr Parser::ParsePostfix(ExprPtr node) {
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

ExprPtr Parser::ParseSubscript(ExprPtr node, size_t offset) {
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

bool Parser::ParseCallArgs(std::vector<Arg>* args) {
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

ExprPtr Parser::ParseCall(ExprPtr callee) {
  auto c = Make(ExprKind::kCall, Cur().offset);
  c->children.push_back(std::move(callee));
  if (!ParseCallArgs(&c->args)) return nullptr;
  return c;
}

ExprPtr Parser::ParseFilterExpr(ExprPtr node) {
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

bool Parser::ParseDottedName(std::string* name) {
  if (!ExpectName(name)) return false;
  while (IsOp(".") && Peek().kind == TokKind::kName) {
    Advance();
    *name += "." + Cur().text;
    Advance();
  }
  return true;
}

ExprPtr Parser::ParseFilter(ExprPtr input) {
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

ExprPtr Parser::ParseTest(ExprPtr input) {
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

}  // namespace semantic::chat::tmpl
