// Chat-template interpreter: walks the syntax tree with jinja2's semantics (per-iteration loop
// scopes, Undefined, sandboxed attribute access); filters, tests and methods live in their own files.
#pragma once

#include <ctime>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "chat/template_ast.h"
#include "chat/template_parser.h"
#include "chat/value.h"

namespace semantic::chat {
namespace tmpl {

struct Scope {
  std::shared_ptr<Scope> parent;
  std::vector<std::pair<std::string, Value>> vars;

  const Value* Lookup(std::string_view name) const;
  void Set(std::string_view name, Value v);
};
using ScopePtr = std::shared_ptr<Scope>;

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// One parameter of a builtin: a name and, when optional, its default.
struct Param {
  const char* name;
  std::optional<Value> def;
};

class Interpreter;

// Python str.replace(from, to, count)'s result size against Interpreter::CheckSize.
Status CheckReplaceSize(const Interpreter& in, std::string_view s, std::string_view from,
                        std::string_view to, int64_t count, size_t offset);

}  // namespace tmpl

// A callable value: builtin global, bound method, macro, or loop.cycle.
struct CallableData {
  enum class Type { kBuiltin, kMethod, kMacro, kLoopCycle };
  Type type = Type::kBuiltin;
  std::string name;
  Value receiver;                     // kMethod: bound object; kLoopCycle: loop.index0
  const tmpl::Stmt* macro = nullptr;  // kMacro
  tmpl::ScopePtr closure;             // kMacro: scope the macro was defined in
};

namespace tmpl {

class Interpreter {
 public:
  Interpreter(const Program& program, std::optional<std::tm> now);

  Expected<std::string> Render(const Value& context);

  // ---- services for filters, tests and methods ----
  Status Error(size_t offset, const std::string& msg) const;  // InvalidArgument with position
  // Limits that keep one render bounded (ResourceExhausted past them): every string or list a
  // template builds is capped like its output, at 64 MiB (`count` units of `unit` bytes; a list
  // item counts 16 bytes plus its text), and loop iterations plus macro calls at kMaxSteps per
  // render, so a template cannot keep a server thread busy for hours.
  static constexpr uint64_t kMaxValueBytes = uint64_t{64} << 20;
  static constexpr uint64_t kMaxSteps = 200000;
  Status CheckSize(uint64_t count, uint64_t unit, size_t offset) const;
  Status Step(size_t offset);
  Status UndefinedError(const Value& undefined, size_t offset) const;
  // jinja2 sandbox getattr(obj, name) and getitem(obj, key).
  Expected<Value> GetAttr(const Value& obj, const std::string& name, size_t offset);
  Expected<Value> GetItem(const Value& obj, const Value& key, size_t offset);
  Expected<Value> Call(const Value& callee, CallArgs args, size_t offset);
  Expected<Value> ApplyFilter(std::string_view name, const Value& input, CallArgs args,
                              size_t offset);
  Expected<bool> ApplyTest(std::string_view name, const Value& input, CallArgs args,
                           size_t offset);
  // Python iter(): list items, dict keys, string characters; undefined iterates as empty.
  Expected<std::vector<Value>> Iterate(const Value& v, size_t offset) const;
  // Binds positional then keyword arguments to `params` (in order), filling defaults.
  Expected<std::vector<Value>> Bind(std::string_view fn, const CallArgs& args,
                                    std::initializer_list<Param> params, size_t offset) const;
  std::tm Now() const;
  // Namespaces may reference themselves (ns.me = ns); they are emptied when Render ends.
  void TrackNamespace(const Value& ns) { namespaces_.push_back(ns); }

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  Expected<Flow> ExecBody(const Body& body, const ScopePtr& scope, std::string* out);
  Expected<Flow> Exec(const Stmt& s, const ScopePtr& scope, std::string* out);
  Expected<Flow> ExecFor(const Stmt& s, const ScopePtr& scope, std::string* out);
  Status ExecSet(const Stmt& s, const ScopePtr& scope);
  Status Assign(const std::vector<std::string>& targets, const Value& v, Scope* scope,
                size_t offset);
  Status Append(std::string* out, const std::string& text, size_t offset) const;

  Expected<Value> Eval(const Expr& e, const ScopePtr& scope);
  Expected<Value> EvalBinary(const Expr& e, const ScopePtr& scope);
  Expected<Value> EvalCompare(const Expr& e, const ScopePtr& scope);
  Expected<Value> EvalSlice(const Expr& e, const ScopePtr& scope);
  Expected<Value> EvalCall(const Expr& e, const ScopePtr& scope);
  Expected<CallArgs> EvalArgs(const std::vector<Arg>& args, const ScopePtr& scope);
  Expected<Value> CallMacro(const CallableData& fn, CallArgs args, size_t offset);

  const Program& program_;
  std::optional<std::tm> now_;
  ScopePtr globals_;
  int call_depth_ = 0;
  uint64_t steps_ = 0;  // loop iterations + macro calls so far (kMaxSteps)
  // Scopes that hold macros (which point back at them) and namespaces: cleared after Render
  // so reference cycles do not leak.
  std::vector<ScopePtr> macro_scopes_;
  std::vector<Value> namespaces_;
};

// Python operators shared with filters (sum, sort, max ...).
Expected<Value> BinaryOp(const Interpreter& in, std::string_view op, const Value& a,
                         const Value& b, size_t offset);
// Python `<`: -1 / 0 / 1, or an error for unorderable types.
Expected<int> Compare(const Interpreter& in, const Value& a, const Value& b, size_t offset);
Expected<bool> Contains(const Interpreter& in, const Value& container, const Value& item,
                        size_t offset);
// Python `fmt % args` (template_format.cpp): a tuple gives positional values, a dict names them.
Expected<Value> PercentFormat(const Interpreter& in, const std::string& fmt, const Value& args,
                              size_t offset);

// Implemented in template_filters.cpp / template_tests.cpp / template_methods.cpp.
Expected<Value> RunFilter(Interpreter& in, std::string_view name, const Value& input,
                          const CallArgs& args, size_t offset);
Expected<bool> RunTest(Interpreter& in, std::string_view name, const Value& input,
                       const CallArgs& args, size_t offset);
// Whether `receiver.name(...)` is a method templates may call (str.split, dict.get, list.index ...).
bool HasMethod(const Value& receiver, std::string_view name);
// Mutating methods the immutable sandbox forbids (list.append, dict.update ...).
bool IsUnsafeMethod(const Value& receiver, std::string_view name);
Expected<Value> CallMethod(Interpreter& in, const Value& receiver, std::string_view name,
                           const CallArgs& args, size_t offset);
// Global functions: range, namespace, dict, raise_exception, strftime_now (cycler, joiner and
// lipsum are not provided).
const std::vector<std::string_view>& BuiltinGlobals();
Expected<Value> CallBuiltin(Interpreter& in, std::string_view name, const CallArgs& args,
                            size_t offset);

}  // namespace tmpl
}  // namespace semantic::chat
