// Chat-template interpreter: statements, expressions, attribute/item lookup and calls, with
// jinja2's semantics as HF transformers runs it (ImmutableSandboxedEnvironment, default Undefined).
#include "chat/template_eval.h"

#include "chat/template_lexer.h"
#include "chat/unicode_text.h"
#include "chat/value_format.h"

namespace semantic::chat::tmpl {
namespace {

constexpr size_t kMaxOutputBytes = size_t{64} << 20;
constexpr int kMaxCallDepth = 64;

// jinja2's object_type_repr: "dict object", "list object", "None" ...
std::string ObjectTypeRepr(const Value& v) {
  if (v.is_null()) return "None";
  if (v.is_namespace()) return "jinja2.utils.Namespace object";
  return std::string(PyTypeName(v)) + " object";
}

Value NoAttribute(const Value& obj, const std::string& name) {
  return Value::Undefined("'" + ObjectTypeRepr(obj) + "' has no attribute '" + name + "'");
}

Value NoElement(const Value& obj, const Value& key) {
  return Value::Undefined(ObjectTypeRepr(obj) + " has no element " + PyRepr(key));
}

// Python slice.indices() followed by the selected positions.
Expected<std::vector<size_t>> SliceIndices(int64_t len, const std::optional<int64_t>& start_in,
                                           const std::optional<int64_t>& stop_in,
                                           const std::optional<int64_t>& step_in) {
  const int64_t step = step_in.value_or(1);
  if (step == 0) return InvalidArgument("slice step cannot be zero");
  auto clamp = [&](std::optional<int64_t> v, int64_t def, int64_t lo, int64_t hi) {
    if (!v) return def;
    int64_t x = *v;
    if (x < 0) x += len;
    if (x < lo) x = lo;
    if (x > hi) x = hi;
    return x;
  };
  std::vector<size_t> out;
  if (step > 0) {
    const int64_t start = clamp(start_in, 0, 0, len);
    const int64_t stop = clamp(stop_in, len, 0, len);
    for (int64_t i = start; i < stop; i += step) out.push_back(static_cast<size_t>(i));
  } else {
    const int64_t start = clamp(start_in, len - 1, -1, len - 1);
    const int64_t stop = clamp(stop_in, -1, -1, len - 1);
    for (int64_t i = start; i > stop; i += step) out.push_back(static_cast<size_t>(i));
  }
  return out;
}

}  // namespace

const Value* Scope::Lookup(std::string_view name) const {
  for (const Scope* s = this; s != nullptr; s = s->parent.get()) {
    for (const auto& [k, v] : s->vars) {
      if (k == name) return &v;
    }
  }
  return nullptr;
}

void Scope::Set(std::string_view name, Value v) {
  for (auto& [k, val] : vars) {
    if (k == name) {
      val = std::move(v);
      return;
    }
  }
  vars.emplace_back(std::string(name), std::move(v));
}

Interpreter::Interpreter(const Program& program, std::optional<std::tm> now)
    : program_(program), now_(now), globals_(std::make_shared<Scope>()) {
  for (std::string_view name : BuiltinGlobals()) {
    auto fn = std::make_shared<CallableData>();
    fn->type = CallableData::Type::kBuiltin;
    fn->name = std::string(name);
    globals_->Set(name, Value::NewCallable(std::move(fn)));
  }
}

std::tm Interpreter::Now() const {
  if (now_) return *now_;
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm;
}

Expected<std::string> Interpreter::Render(const Value& context) {
  auto root = std::make_shared<Scope>();
  root->parent = globals_;
  if (context.is_object()) {
    root->vars.reserve(context.members().size());
    for (const auto& [k, v] : context.members()) root->vars.emplace_back(k, v);  // keys unique
  } else if (!context.is_null()) {
    return InvalidArgument("template context must be an object");
  }
  std::string out;
  auto flow = ExecBody(program_.body, root, &out);
  for (const ScopePtr& s : macro_scopes_) s->vars.clear();
  for (Value& ns : namespaces_) ns.ClearNamespace();
  macro_scopes_.clear();
  namespaces_.clear();
  if (!flow.ok()) return flow.status();
  return out;
}

Status Interpreter::Error(size_t offset, const std::string& msg) const {
  return InvalidArgument(SourcePosition(program_.source, offset) + ": " + msg);
}

Status Interpreter::CheckSize(uint64_t count, uint64_t unit, size_t offset) const {
  if (unit != 0 && count > kMaxValueBytes / unit) {
    return ResourceExhausted(SourcePosition(program_.source, offset) +
                             ": template value would exceed 64 MiB");
  }
  return Status::Ok();
}

Status CheckReplaceSize(const Interpreter& in, std::string_view s, std::string_view from,
                        std::string_view to, int64_t count, size_t offset) {
  if (to.size() <= from.size()) return Status::Ok();  // never longer than `s`
  // Counting stops as soon as the growth alone is over the limit.
  const uint64_t most = Interpreter::kMaxValueBytes / (to.size() - from.size()) + 1;
  uint64_t n = 0;
  if (from.empty()) {
    n = text::CodePointCount(s) + 1;
  } else {
    for (size_t at = s.find(from); at != std::string_view::npos && n < most;
         at = s.find(from, at + from.size())) {
      if (count >= 0 && n >= static_cast<uint64_t>(count)) break;
      ++n;
    }
  }
  if (count >= 0) n = std::min(n, static_cast<uint64_t>(count));
  RETURN_IF_ERROR(in.CheckSize(n, to.size() - from.size(), offset));
  return in.CheckSize(s.size() + n * (to.size() - from.size()), 1, offset);
}

Status Interpreter::Step(size_t offset) {
  if (++steps_ > kMaxSteps) {
    return ResourceExhausted(SourcePosition(program_.source, offset) +
                             ": template exceeds 200000 loop iterations and macro calls");
  }
  return Status::Ok();
}

Status Interpreter::UndefinedError(const Value& undefined, size_t offset) const {
  return Error(offset, undefined.undefined_hint());
}

Status Interpreter::Append(std::string* out, const std::string& text, size_t offset) const {
  if (out->size() + text.size() > kMaxOutputBytes) {
    return ResourceExhausted(SourcePosition(program_.source, offset) +
                             ": template output exceeds 64 MiB");
  }
  *out += text;
  return Status::Ok();
}

// ---- statements ------------------------------------------------------------------------------

Expected<Interpreter::Flow> Interpreter::ExecBody(const Body& body, const ScopePtr& scope,
                                                  std::string* out) {
  for (const StmtPtr& s : body) {
    ASSIGN_OR_RETURN(Flow flow, Exec(*s, scope, out));
    if (flow != Flow::kNormal) return flow;
  }
  return Flow::kNormal;
}

Expected<Interpreter::Flow> Interpreter::Exec(const Stmt& s, const ScopePtr& scope,
                                              std::string* out) {
  switch (s.kind) {
    case StmtKind::kText:
      RETURN_IF_ERROR(Append(out, s.text, s.offset));
      return Flow::kNormal;
    case StmtKind::kOutput: {
      ASSIGN_OR_RETURN(Value v, Eval(*s.expr, scope));
      RETURN_IF_ERROR(Append(out, v.is_string() ? v.AsString() : PyStr(v), s.offset));
      return Flow::kNormal;
    }
    case StmtKind::kIf:
      for (const Branch& b : s.branches) {
        ASSIGN_OR_RETURN(Value c, Eval(*b.cond, scope));
        if (c.Truthy()) return ExecBody(b.body, scope, out);
      }
      return ExecBody(s.else_body, scope, out);
    case StmtKind::kFor:
      return ExecFor(s, scope, out);
    case StmtKind::kSet:
      RETURN_IF_ERROR(ExecSet(s, scope));
      return Flow::kNormal;
    case StmtKind::kSetBlock: {
      auto inner = std::make_shared<Scope>();
      inner->parent = scope;
      std::string text;
      ASSIGN_OR_RETURN(Flow flow, ExecBody(s.body, inner, &text));
      (void)flow;
      scope->Set(s.targets[0], Value(std::move(text)));
      return Flow::kNormal;
    }
    case StmtKind::kMacro: {
      auto fn = std::make_shared<CallableData>();
      fn->type = CallableData::Type::kMacro;
      fn->name = s.name;
      fn->macro = &s;
      fn->closure = scope;
      scope->Set(s.name, Value::NewCallable(std::move(fn)));
      macro_scopes_.push_back(scope);
      return Flow::kNormal;
    }
    case StmtKind::kBreak:
      return Flow::kBreak;
    case StmtKind::kContinue:
      return Flow::kContinue;
    case StmtKind::kFilterBlock: {
      auto inner = std::make_shared<Scope>();
      inner->parent = scope;
      std::string text;
      ASSIGN_OR_RETURN(Flow flow, ExecBody(s.body, inner, &text));
      Value v(std::move(text));
      for (const ExprPtr& f : s.filters) {
        ASSIGN_OR_RETURN(CallArgs args, EvalArgs(f->args, scope));
        ASSIGN_OR_RETURN(v, ApplyFilter(f->name, v, std::move(args), f->offset));
      }
      RETURN_IF_ERROR(Append(out, PyStr(v), s.offset));
      return flow;
    }
    case StmtKind::kWith: {
      auto inner = std::make_shared<Scope>();
      inner->parent = scope;
      for (size_t i = 0; i < s.targets.size(); ++i) {
        ASSIGN_OR_RETURN(Value v, Eval(*s.defaults[i], scope));
        inner->Set(s.targets[i], std::move(v));
      }
      return ExecBody(s.body, inner, out);
    }
    case StmtKind::kScope: {  // assignments inside stay inside, as in HF's generation block
      auto inner = std::make_shared<Scope>();
      inner->parent = scope;
      return ExecBody(s.body, inner, out);
    }
  }
  return Flow::kNormal;
}

Status Interpreter::Assign(const std::vector<std::string>& targets, const Value& v, Scope* scope,
                           size_t offset) {
  if (targets.size() == 1) {
    scope->Set(targets[0], v);
    return Status::Ok();
  }
  if (v.is_undefined()) return UndefinedError(v, offset);
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v, offset));
  if (items.size() < targets.size()) {
    return Error(offset, "not enough values to unpack (expected " + std::to_string(targets.size()) +
                             ", got " + std::to_string(items.size()) + ")");
  }
  if (items.size() > targets.size()) {
    return Error(offset,
                 "too many values to unpack (expected " + std::to_string(targets.size()) + ")");
  }
  for (size_t i = 0; i < targets.size(); ++i) scope->Set(targets[i], items[i]);
  return Status::Ok();
}

Status Interpreter::ExecSet(const Stmt& s, const ScopePtr& scope) {
  ASSIGN_OR_RETURN(Value v, Eval(*s.expr, scope));
  if (!s.attr.empty()) {
    const Value* ns = scope->Lookup(s.targets[0]);
    if (ns == nullptr || !ns->is_namespace()) {
      return Error(s.offset, "cannot assign attribute on non-namespace object");
    }
    Value handle = *ns;  // namespaces are shared: this writes through
    handle.Set(s.attr, std::move(v));
    return Status::Ok();
  }
  return Assign(s.targets, v, scope.get(), s.offset);
}

Expected<Interpreter::Flow> Interpreter::ExecFor(const Stmt& s, const ScopePtr& scope,
                                                 std::string* out) {
  ASSIGN_OR_RETURN(Value iterable, Eval(*s.expr, scope));
  ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(iterable, s.expr->offset));
  if (s.filter) {
    std::vector<Value> kept;
    for (Value& item : items) {
      RETURN_IF_ERROR(Step(s.offset));
      auto fs = std::make_shared<Scope>();
      fs->parent = scope;
      RETURN_IF_ERROR(Assign(s.targets, item, fs.get(), s.offset));
      ASSIGN_OR_RETURN(Value keep, Eval(*s.filter, fs));
      if (keep.Truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    auto inner = std::make_shared<Scope>();
    inner->parent = scope;
    return ExecBody(s.else_body, inner, out);
  }
  const size_t n = items.size();
  for (size_t i = 0; i < n; ++i) {
    RETURN_IF_ERROR(Step(s.offset));
    auto it = std::make_shared<Scope>();
    it->parent = scope;
    RETURN_IF_ERROR(Assign(s.targets, items[i], it.get(), s.offset));
    auto cycle = std::make_shared<CallableData>();
    cycle->type = CallableData::Type::kLoopCycle;
    cycle->name = "cycle";
    cycle->receiver = Value(i);
    Value::Object loop;
    loop.reserve(12);
    loop.emplace_back("index", Value(i + 1));
    loop.emplace_back("index0", Value(i));
    loop.emplace_back("revindex", Value(n - i));
    loop.emplace_back("revindex0", Value(n - i - 1));
    loop.emplace_back("first", Value(i == 0));
    loop.emplace_back("last", Value(i + 1 == n));
    loop.emplace_back("length", Value(n));
    loop.emplace_back("depth", Value(1));
    loop.emplace_back("depth0", Value(0));
    loop.emplace_back("previtem", i > 0 ? items[i - 1] : Value::Undefined("there is no previous item"));
    loop.emplace_back("nextitem", i + 1 < n ? items[i + 1] : Value::Undefined("there is no next item"));
    loop.emplace_back("cycle", Value::NewCallable(std::move(cycle)));
    it->Set("loop", Value::NewObject(std::move(loop)));
    ASSIGN_OR_RETURN(Flow flow, ExecBody(s.body, it, out));
    if (flow == Flow::kBreak) break;
  }
  return Flow::kNormal;
}

// ---- expressions -----------------------------------------------------------------------------

Expected<Value> Interpreter::Eval(const Expr& e, const ScopePtr& scope) {
  switch (e.kind) {
    case ExprKind::kLiteral:
      return e.literal;
    case ExprKind::kName: {
      const Value* v = scope->Lookup(e.name);
      if (v == nullptr) return Value::Undefined("'" + e.name + "' is undefined");
      return *v;
    }
    case ExprKind::kList:
    case ExprKind::kTuple: {
      Value::Array items;
      items.reserve(e.children.size());
      for (const ExprPtr& c : e.children) {
        ASSIGN_OR_RETURN(Value v, Eval(*c, scope));
        items.push_back(std::move(v));
      }
      if (e.kind == ExprKind::kTuple) return Value::NewTuple(std::move(items));
      return Value::NewArray(std::move(items));
    }
    case ExprKind::kDict: {
      Value obj = Value::NewObject();
      for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
        ASSIGN_OR_RETURN(Value k, Eval(*e.children[i], scope));
        ASSIGN_OR_RETURN(Value v, Eval(*e.children[i + 1], scope));
        if (!k.is_string()) {
          return Error(e.children[i]->offset,
                       "unsupported dict key of type '" + std::string(PyTypeName(k)) +
                           "' (only string keys are supported)");
        }
        obj.Set(k.AsString(), std::move(v));
      }
      return obj;
    }
    case ExprKind::kAttr: {
      ASSIGN_OR_RETURN(Value obj, Eval(*e.children[0], scope));
      return GetAttr(obj, e.name, e.offset);
    }
    case ExprKind::kIndex: {
      ASSIGN_OR_RETURN(Value obj, Eval(*e.children[0], scope));
      ASSIGN_OR_RETURN(Value key, Eval(*e.children[1], scope));
      return GetItem(obj, key, e.offset);
    }
    case ExprKind::kSlice:
      return EvalSlice(e, scope);
    case ExprKind::kCall:
      return EvalCall(e, scope);
    case ExprKind::kFilter: {
      ASSIGN_OR_RETURN(Value input, Eval(*e.children[0], scope));
      ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e.args, scope));
      return ApplyFilter(e.name, input, std::move(args), e.offset);
    }
    case ExprKind::kTest: {
      ASSIGN_OR_RETURN(Value input, Eval(*e.children[0], scope));
      ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e.args, scope));
      ASSIGN_OR_RETURN(bool r, ApplyTest(e.name, input, std::move(args), e.offset));
      return Value(r != e.negated);
    }
    case ExprKind::kUnary: {
      ASSIGN_OR_RETURN(Value v, Eval(*e.children[0], scope));
      if (v.is_undefined()) return UndefinedError(v, e.offset);
      if (!v.is_number()) {
        return Error(e.offset, "bad operand type for unary " + e.name + ": '" +
                                   std::string(PyTypeName(v)) + "'");
      }
      if (e.name == "+") return v.is_bool() ? Value(v.AsInt()) : v;
      if (v.is_double()) return Value(-v.AsDouble());
      if (v.AsInt() == INT64_MIN) return Error(e.offset, "integer overflow");
      return Value(-v.AsInt());
    }
    case ExprKind::kBinary:
      return EvalBinary(e, scope);
    case ExprKind::kCompare:
      return EvalCompare(e, scope);
    case ExprKind::kAnd: {
      ASSIGN_OR_RETURN(Value l, Eval(*e.children[0], scope));
      if (!l.Truthy()) return l;
      return Eval(*e.children[1], scope);
    }
    case ExprKind::kOr: {
      ASSIGN_OR_RETURN(Value l, Eval(*e.children[0], scope));
      if (l.Truthy()) return l;
      return Eval(*e.children[1], scope);
    }
    case ExprKind::kNot: {
      ASSIGN_OR_RETURN(Value v, Eval(*e.children[0], scope));
      return Value(!v.Truthy());
    }
    case ExprKind::kCond: {
      ASSIGN_OR_RETURN(Value c, Eval(*e.children[0], scope));
      if (c.Truthy()) return Eval(*e.children[1], scope);
      if (e.children[2]) return Eval(*e.children[2], scope);
      return Value::Undefined(
          "the inline if-expression evaluated to false and no else section was defined.");
    }
  }
  return Error(e.offset, "internal error: unknown expression");
}

Expected<Value> Interpreter::EvalBinary(const Expr& e, const ScopePtr& scope) {
  ASSIGN_OR_RETURN(Value l, Eval(*e.children[0], scope));
  ASSIGN_OR_RETURN(Value r, Eval(*e.children[1], scope));
  if (e.name == "~") {
    std::string a = PyStr(l);
    const std::string b = PyStr(r);
    RETURN_IF_ERROR(CheckSize(a.size() + b.size(), 1, e.offset));
    return Value(std::move(a) + b);
  }
  return BinaryOp(*this, e.name, l, r, e.offset);
}

Expected<Value> Interpreter::EvalCompare(const Expr& e, const ScopePtr& scope) {
  ASSIGN_OR_RETURN(Value left, Eval(*e.children[0], scope));
  for (size_t i = 0; i < e.ops.size(); ++i) {
    ASSIGN_OR_RETURN(Value right, Eval(*e.children[i + 1], scope));
    const std::string& op = e.ops[i];
    bool r = false;
    if (op == "==") {
      r = PyEquals(left, right);
    } else if (op == "!=") {
      r = !PyEquals(left, right);
    } else if (op == "in" || op == "notin") {
      ASSIGN_OR_RETURN(bool c, Contains(*this, right, left, e.children[i + 1]->offset));
      r = (op == "in") == c;
    } else {
      ASSIGN_OR_RETURN(int c, Compare(*this, left, right, e.offset));
      r = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
    }
    if (!r) return Value(false);
    left = std::move(right);
  }
  return Value(true);
}

Expected<Value> Interpreter::EvalSlice(const Expr& e, const ScopePtr& scope) {
  ASSIGN_OR_RETURN(Value obj, Eval(*e.children[0], scope));
  std::optional<int64_t> parts[3];
  for (int i = 0; i < 3; ++i) {
    if (!e.children[i + 1]) continue;
    ASSIGN_OR_RETURN(Value v, Eval(*e.children[i + 1], scope));
    if (v.is_null()) continue;
    if (!v.is_int() && !v.is_bool()) {
      return Error(e.offset, "slice indices must be integers or None");
    }
    parts[i] = v.AsInt();
  }
  if (obj.is_undefined()) return UndefinedError(obj, e.offset);
  if (obj.is_array()) {
    const auto& items = obj.items();
    auto idx = SliceIndices(static_cast<int64_t>(items.size()), parts[0], parts[1], parts[2]);
    if (!idx.ok()) return Error(e.offset, idx.status().message());
    Value::Array out;
    out.reserve(idx->size());
    for (size_t i : *idx) out.push_back(items[i]);
    return obj.is_tuple() ? Value::NewTuple(std::move(out)) : Value::NewArray(std::move(out));
  }
  if (obj.is_string()) {
    const std::vector<char32_t> cps = text::ToCodePoints(obj.AsString());
    auto idx = SliceIndices(static_cast<int64_t>(cps.size()), parts[0], parts[1], parts[2]);
    if (!idx.ok()) return Error(e.offset, idx.status().message());
    std::string out;
    for (size_t i : *idx) text::AppendUtf8(cps[i], &out);
    return Value(std::move(out));
  }
  // jinja2 compiles slices to a plain Python subscript, so other types raise.
  if (obj.is_object()) return Error(e.offset, "unhashable type: 'slice'");
  return Error(e.offset, "'" + std::string(PyTypeName(obj)) + "' object is not subscriptable");
}

Expected<CallArgs> Interpreter::EvalArgs(const std::vector<Arg>& args, const ScopePtr& scope) {
  CallArgs out;
  for (const Arg& a : args) {
    ASSIGN_OR_RETURN(Value v, Eval(*a.value, scope));
    if (a.name.empty()) {
      out.positional.push_back(std::move(v));
    } else {
      out.keyword.emplace_back(a.name, std::move(v));
    }
  }
  return out;
}

Expected<Value> Interpreter::EvalCall(const Expr& e, const ScopePtr& scope) {
  ASSIGN_OR_RETURN(Value callee, Eval(*e.children[0], scope));
  ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e.args, scope));
  return Call(callee, std::move(args), e.offset);
}

Expected<Value> Interpreter::Call(const Value& callee, CallArgs args, size_t offset) {
  if (callee.is_undefined()) return UndefinedError(callee, offset);
  if (!callee.is_callable()) {
    return Error(offset, "'" + std::string(PyTypeName(callee)) + "' object is not callable");
  }
  const CallableData& fn = *callee.callable();
  switch (fn.type) {
    case CallableData::Type::kBuiltin:
      return CallBuiltin(*this, fn.name, args, offset);
    case CallableData::Type::kMethod:
      return CallMethod(*this, fn.receiver, fn.name, args, offset);
    case CallableData::Type::kMacro:
      return CallMacro(fn, std::move(args), offset);
    case CallableData::Type::kLoopCycle: {
      if (args.positional.empty()) return Error(offset, "no items for cycling given");
      const size_t i = static_cast<size_t>(fn.receiver.AsInt()) % args.positional.size();
      return args.positional[i];
    }
  }
  return Error(offset, "internal error: unknown callable");
}

Expected<Value> Interpreter::CallMacro(const CallableData& fn, CallArgs args, size_t offset) {
  if (call_depth_ >= kMaxCallDepth) return Error(offset, "maximum macro call depth exceeded");
  RETURN_IF_ERROR(Step(offset));
  const Stmt& m = *fn.macro;
  auto scope = std::make_shared<Scope>();
  scope->parent = fn.closure;
  std::vector<std::optional<Value>> bound(m.params.size());
  Value varargs = Value::NewArray();
  for (size_t i = 0; i < args.positional.size(); ++i) {
    if (i < bound.size()) {
      bound[i] = std::move(args.positional[i]);
    } else {
      varargs.Append(std::move(args.positional[i]));
    }
  }
  Value kwargs = Value::NewObject();
  for (auto& [k, v] : args.keyword) {
    bool matched = false;
    for (size_t i = 0; i < m.params.size(); ++i) {
      if (m.params[i] == k) {
        if (bound[i]) return Error(offset, "macro '" + m.name + "' got multiple values for argument '" + k + "'");
        bound[i] = std::move(v);
        matched = true;
      }
    }
    if (!matched) kwargs.Set(k, std::move(v));
  }
  for (size_t i = 0; i < m.params.size(); ++i) {
    if (bound[i]) {
      scope->Set(m.params[i], std::move(*bound[i]));
    } else if (m.defaults[i]) {
      ASSIGN_OR_RETURN(Value def, Eval(*m.defaults[i], scope));
      scope->Set(m.params[i], std::move(def));
    } else {
      scope->Set(m.params[i], Value::Undefined("parameter '" + m.params[i] + "' was not provided"));
    }
  }
  scope->Set("varargs", std::move(varargs));
  scope->Set("kwargs", std::move(kwargs));
  ++call_depth_;
  std::string out;
  auto flow = ExecBody(m.body, scope, &out);
  --call_depth_;
  if (!flow.ok()) return flow.status();
  return Value(std::move(out));
}

Expected<Value> Interpreter::ApplyFilter(std::string_view name, const Value& input, CallArgs args,
                                         size_t offset) {
  return RunFilter(*this, name, input, args, offset);
}

Expected<bool> Interpreter::ApplyTest(std::string_view name, const Value& input, CallArgs args,
                                      size_t offset) {
  return RunTest(*this, name, input, args, offset);
}

// ---- lookup ----------------------------------------------------------------------------------

Expected<Value> Interpreter::GetAttr(const Value& obj, const std::string& name, size_t offset) {
  if (obj.is_undefined()) return UndefinedError(obj, offset);
  if (HasMethod(obj, name)) {
    auto fn = std::make_shared<CallableData>();
    fn->type = CallableData::Type::kMethod;
    fn->name = name;
    fn->receiver = obj;
    return Value::NewCallable(std::move(fn));
  }
  if (IsUnsafeMethod(obj, name)) {
    return Value::Undefined("access to attribute '" + name + "' of '" +
                            std::string(PyTypeName(obj)) + "' object is unsafe.");
  }
  if (obj.is_object() || obj.is_namespace()) {
    if (const Value* v = obj.Find(name)) return *v;
  }
  return NoAttribute(obj, name);
}

Expected<Value> Interpreter::GetItem(const Value& obj, const Value& key, size_t offset) {
  if (obj.is_undefined()) return UndefinedError(obj, offset);
  if ((obj.is_array() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = key.AsInt();
    if (obj.is_array()) {
      const auto n = static_cast<int64_t>(obj.items().size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return obj.items()[static_cast<size_t>(i)];
    } else {
      const std::vector<char32_t> cps = text::ToCodePoints(obj.AsString());
      const auto n = static_cast<int64_t>(cps.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return Value(text::FromCodePoints(cps, static_cast<size_t>(i), static_cast<size_t>(i) + 1));
    }
    return NoElement(obj, key);
  }
  if (obj.is_object() && key.is_string()) {
    if (const Value* v = obj.Find(key.AsString())) return *v;
  }
  if (key.is_string()) return GetAttr(obj, key.AsString(), offset);
  return NoElement(obj, key);
}

Expected<std::vector<Value>> Interpreter::Iterate(const Value& v, size_t offset) const {
  switch (v.kind()) {
    case Value::Kind::kArray:
      return v.items();
    case Value::Kind::kObject: {
      std::vector<Value> keys;
      keys.reserve(v.members().size());
      for (const auto& [k, val] : v.members()) keys.emplace_back(k);
      return keys;
    }
    case Value::Kind::kString: {
      std::vector<Value> chars;
      const std::string& s = v.AsString();
      for (size_t pos = 0; pos < s.size();) {
        const size_t start = pos;
        text::DecodeAt(s, &pos);
        chars.emplace_back(s.substr(start, pos - start));
      }
      return chars;
    }
    case Value::Kind::kUndefined:
      return std::vector<Value>{};
    default:
      return Error(offset, "'" + std::string(PyTypeName(v)) + "' object is not iterable");
  }
}

Expected<std::vector<Value>> Interpreter::Bind(std::string_view fn, const CallArgs& args,
                                               std::initializer_list<Param> params,
                                               size_t offset) const {
  std::vector<std::optional<Value>> bound(params.size());
  if (args.positional.size() > params.size()) {
    return Error(offset, std::string(fn) + "() takes at most " + std::to_string(params.size()) +
                             " argument(s) (" + std::to_string(args.positional.size()) + " given)");
  }
  for (size_t i = 0; i < args.positional.size(); ++i) bound[i] = args.positional[i];
  for (const auto& [k, v] : args.keyword) {
    size_t i = 0;
    for (const Param& p : params) {
      if (k == p.name) break;
      ++i;
    }
    if (i == params.size()) {
      return Error(offset, std::string(fn) + "() got an unexpected keyword argument '" + k + "'");
    }
    if (bound[i]) {
      return Error(offset, std::string(fn) + "() got multiple values for argument '" + k + "'");
    }
    bound[i] = v;
  }
  std::vector<Value> out;
  out.reserve(params.size());
  size_t i = 0;
  for (const Param& p : params) {
    if (bound[i]) {
      out.push_back(std::move(*bound[i]));
    } else if (p.def) {
      out.push_back(*p.def);
    } else {
      return Error(offset, std::string(fn) + "() missing required argument '" + p.name + "'");
    }
    ++i;
  }
  return out;
}

}  // namespace semantic::chat::tmpl
