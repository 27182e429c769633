// Syntax tree of a parsed chat template: expressions and statements, each with the source offset
// that runtime errors report.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chat/value.h"

namespace semantic::chat::tmpl {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
  kLiteral,  // literal
  kName,     // name
  kList,     // children: items
  kTuple,    // children: items (evaluates to a list)
  kDict,     // children: key0, value0, key1, value1, ...
  kAttr,     // children[0].name
  kIndex,    // children[0][children[1]]
  kSlice,    // children[0][children[1]:children[2]:children[3]] (null = omitted)
  kCall,     // children[0](args)
  kFilter,   // children[0] | name(args); children[0] null inside {% filter %}
  kTest,     // children[0] is [not] name(args)
  kUnary,    // name: "-", "+"; children[0]
  kBinary,   // name: + - * / // % ** ~; children[0], children[1]
  kCompare,  // children[0] ops[0] children[1] ops[1] children[2] ... (chained)
  kAnd,      // children[0] and children[1]
  kOr,       // children[0] or children[1]
  kNot,      // not children[0]
  kCond,     // children[1] if children[0] else children[2] (children[2] may be null)
};

struct Arg {
  std::string name;  // empty: positional
  ExprPtr value;
};

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  size_t offset = 0;
  Value literal;
  std::string name;
  std::vector<ExprPtr> children;
  std::vector<Arg> args;
  std::vector<std::string> ops;  // kCompare: == != < <= > >= in notin
  bool negated = false;          // kTest: `is not`
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class StmtKind {
  kText,         // text
  kOutput,       // {{ expr }}
  kIf,           // branches (cond, body) ...; else_body
  kFor,          // for targets in expr [if filter]: body; else_body
  kSet,          // set targets = expr, or set targets[0].attr = expr
  kSetBlock,     // set targets[0] %} body {% endset
  kMacro,        // macro name(params = defaults): body
  kBreak,
  kContinue,
  kFilterBlock,  // filter filters...: body
  kWith,         // with targets = values: body
  kScope,        // body in a child scope ({% generation %})
};

struct Branch {
  ExprPtr cond;
  Body body;
};

struct Stmt {
  StmtKind kind = StmtKind::kText;
  size_t offset = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr filter;  // kFor: `if` condition
  std::vector<Branch> branches;
  Body body;
  Body else_body;
  std::vector<std::string> targets;
  std::string attr;                   // kSet: namespace attribute
  std::string name;                   // kMacro
  std::vector<std::string> params;    // kMacro
  std::vector<ExprPtr> defaults;      // kMacro (null: required); kWith values
  std::vector<ExprPtr> filters;       // kFilterBlock: kFilter chain with null inputs
};

}  // namespace semantic::chat::tmpl
