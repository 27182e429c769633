// Jinja2 tests for chat templates (`x is defined`, `is string`, `is equalto 'user'`, ...), with
// jinja2 3.1's definitions (e.g. `number` includes booleans, `iterable` includes strings).
#include "chat/template_eval.h"
#include "chat/unicode_text.h"
#include "chat/value_format.h"

namespace semantic::chat::tmpl {
namespace {

using TestFn = Expected<bool> (*)(Interpreter&, const Value&, const CallArgs&, size_t);

Expected<Value> OneArg(Interpreter& in, std::string_view name, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind(name, a, {{"other", {}}}, off));
  return p[0];
}

Status NoArgs(Interpreter& in, std::string_view name, const CallArgs& a, size_t off) {
  auto p = in.Bind(name, a, {}, off);
  return p.ok() ? Status::Ok() : p.status();
}

#define SIMPLE_TEST(fn, name, expr)                                                \
  Expected<bool> fn(Interpreter& in, const Value& v, const CallArgs& a, size_t off) { \
    RETURN_IF_ERROR(NoArgs(in, name, a, off));                                     \
    return (expr);                                                                 \
  }

SIMPLE_TEST(Boolean, "boolean", v.is_bool())
SIMPLE_TEST(Callable, "callable", v.is_callable() || v.is_undefined())  // Undefined has __call__
SIMPLE_TEST(Defined, "defined", !v.is_undefined())
SIMPLE_TEST(Undefined, "undefined", v.is_undefined())
SIMPLE_TEST(Escaped, "escaped", false)
SIMPLE_TEST(False, "false", v.is_bool() && !v.AsBool())
SIMPLE_TEST(True, "true", v.is_bool() && v.AsBool())
SIMPLE_TEST(FilterName, "filter", v.is_string() && IsSupportedFilter(v.AsString()))
SIMPLE_TEST(TestName, "test", v.is_string() && IsSupportedTest(v.AsString()))
SIMPLE_TEST(Float, "float", v.is_double())
SIMPLE_TEST(Integer, "integer", v.is_int())
SIMPLE_TEST(Number, "number", v.is_number())
SIMPLE_TEST(Iterable, "iterable", v.is_string() || v.is_array() || v.is_object() || v.is_undefined())
SIMPLE_TEST(Mapping, "mapping", v.is_object())
SIMPLE_TEST(None, "none", v.is_null())
SIMPLE_TEST(Sequence, "sequence", v.is_string() || v.is_array() || v.is_object() || v.is_undefined())
SIMPLE_TEST(String, "string", v.is_string())

#undef SIMPLE_TEST

// Python str.islower()/isupper(): some cased character, and none of the other case.
bool CaseTest(const std::string& s, bool lower) {
  bool cased = false;
  for (size_t pos = 0; pos < s.size();) {
    const char32_t cp = text::DecodeAt(s, &pos);
    if (lower ? text::IsUpperCased(cp) : (text::IsLowerCased(cp) && !text::IsUpperCased(cp))) {
      return false;
    }
    if (text::IsCased(cp)) cased = true;
  }
  return cased;
}

Expected<bool> Lower(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  RETURN_IF_ERROR(NoArgs(in, "lower", a, off));
  return CaseTest(v.is_string() ? v.AsString() : PyStr(v), true);
}

Expected<bool> Upper(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  RETURN_IF_ERROR(NoArgs(in, "upper", a, off));
  return CaseTest(v.is_string() ? v.AsString() : PyStr(v), false);
}

Expected<bool> Remainder(Interpreter& in, const Value& v, const Value& by, int64_t want,
                         size_t off) {
  ASSIGN_OR_RETURN(Value r, BinaryOp(in, "%", v, by, off));
  return PyEquals(r, Value(want));
}

Expected<bool> Even(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  RETURN_IF_ERROR(NoArgs(in, "even", a, off));
  return Remainder(in, v, Value(2), 0, off);
}

Expected<bool> Odd(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  RETURN_IF_ERROR(NoArgs(in, "odd", a, off));
  return Remainder(in, v, Value(2), 1, off);
}

Expected<bool> DivisibleBy(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("divisibleby", a, {{"num", {}}}, off));
  return Remainder(in, v, p[0], 0, off);
}

Expected<bool> Eq(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(Value o, OneArg(in, "eq", a, off));
  return PyEquals(v, o);
}

Expected<bool> Ne(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(Value o, OneArg(in, "ne", a, off));
  return !PyEquals(v, o);
}

Expected<bool> Order(Interpreter& in, const Value& v, const CallArgs& a, size_t off,
                     std::string_view op) {
  ASSIGN_OR_RETURN(Value o, OneArg(in, op, a, off));
  ASSIGN_OR_RETURN(int c, Compare(in, v, o, off));
  if (op == "lt") return c < 0;
  if (op == "le") return c <= 0;
  if (op == "gt") return c > 0;
  return c >= 0;
}
Expected<bool> Lt(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  return Order(in, v, a, off, "lt");
}
Expected<bool> Le(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  return Order(in, v, a, off, "le");
}
Expected<bool> Gt(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  return Order(in, v, a, off, "gt");
}
Expected<bool> Ge(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  return Order(in, v, a, off, "ge");
}

Expected<bool> In(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(auto p, in.Bind("in", a, {{"seq", {}}}, off));
  return Contains(in, p[0], v, off);
}

// `is sameas`: Python identity; exact for None/True/False and small ints, else equality of
// namespaces by reference.
Expected<bool> SameAs(Interpreter& in, const Value& v, const CallArgs& a, size_t off) {
  ASSIGN_OR_RETURN(Value o, OneArg(in, "sameas", a, off));
  if (v.kind() != o.kind()) return false;
  if (v.is_null() || v.is_undefined()) return v.is_null();
  if (v.is_bool()) return v.AsBool() == o.AsBool();
  if (v.is_int()) return v.AsInt() == o.AsInt() && v.AsInt() >= -5 && v.AsInt() <= 256;
  if (v.is_namespace() || v.is_callable()) return PyEquals(v, o);
  return false;
}

struct TestEntry {
  std::string_view name;
  TestFn fn;
};

constexpr TestEntry kTests[] = {
    {"boolean", Boolean},   {"callable", Callable}, {"defined", Defined},
    {"divisibleby", DivisibleBy}, {"eq", Eq},       {"equalto", Eq},
    {"==", Eq},             {"escaped", Escaped},   {"even", Even},
    {"false", False},       {"filter", FilterName}, {"float", Float},
    {"ge", Ge},             {">=", Ge},             {"gt", Gt},
    {"greaterthan", Gt},    {">", Gt},              {"in", In},
    {"integer", Integer},   {"iterable", Iterable}, {"le", Le},
    {"<=", Le},             {"lower", Lower},       {"lt", Lt},
    {"lessthan", Lt},       {"<", Lt},              {"mapping", Mapping},
    {"ne", Ne},             {"!=", Ne},             {"none", None},
    {"number", Number},     {"odd", Odd},           {"sameas", SameAs},
    {"sequence", Sequence}, {"string", String},     {"test", TestName},
    {"true", True},         {"undefined", Undefined}, {"upper", Upper},
};

}  // namespace

bool IsSupportedTest(std::string_view name) {
  for (const TestEntry& t : kTests) {
    if (t.name == name) return true;
  }
  return false;
}

Expected<bool> RunTest(Interpreter& in, std::string_view name, const Value& input,
                       const CallArgs& args, size_t offset) {
  for (const TestEntry& t : kTests) {
    if (t.name == name) return t.fn(in, input, args, offset);
  }
  return Status(StatusCode::kUnimplemented,
                in.Error(offset, "unsupported test '" + std::string(name) + "'").message());
}

}  // namespace semantic::chat::tmpl
