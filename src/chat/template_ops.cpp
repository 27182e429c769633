// Python arithmetic, ordering and membership for chat-template values (+ - * / // % **, <, in),
// with Python's int/float rules, floor division and modulo signs, and its TypeError messages.
#include <cmath>
#include <cstdint>

#include "chat/template_eval.h"
#include "chat/value_format.h"

namespace semantic::chat::tmpl {
namespace {

// Bytes a list holds for Interpreter::CheckSize: 16 per item plus the text of string items
// (strings are copied with the list; nested lists and objects are shared).
uint64_t ListBytes(const Value::Array& items) {
  uint64_t n = 0;
  for (const Value& v : items) n += 16 + (v.is_string() ? v.AsString().size() : 0);
  return n;
}

std::string TypeName(const Value& v) { return std::string(PyTypeName(v)); }

Status Unsupported(const Interpreter& in, std::string_view op, const Value& a, const Value& b,
                   size_t offset) {
  if ((op == "+") && (a.is_string() || a.is_array()) && !b.is_undefined()) {
    return in.Error(offset, "can only concatenate " + TypeName(a) + " (not \"" + TypeName(b) +
                                "\") to " + TypeName(a));
  }
  return in.Error(offset, "unsupported operand type(s) for " + std::string(op) + ": '" +
                              TypeName(a) + "' and '" + TypeName(b) + "'");
}

// Python float floor division and modulo (Objects/floatobject.c float_divmod).
void FloatDivMod(double vx, double wx, double* floordiv, double* mod) {
  double m = std::fmod(vx, wx);
  double div = (vx - m) / wx;
  if (m != 0.0) {
    if ((wx < 0) != (m < 0)) {
      m += wx;
      div -= 1.0;
    }
  } else {
    m = std::copysign(0.0, wx);
  }
  double fd;
  if (div != 0.0) {
    fd = std::floor(div);
    if (div - fd > 0.5) fd += 1.0;
  } else {
    fd = std::copysign(0.0, vx / wx);
  }
  *floordiv = fd;
  *mod = m;
}

Expected<Value> Repeat(const Interpreter& in, const Value& seq, int64_t n, size_t offset) {
  if (n <= 0) return seq.is_string() ? Value("") : (seq.is_tuple() ? Value::NewTuple({}) : Value::NewArray());
  const uint64_t unit = seq.is_string() ? seq.AsString().size() : ListBytes(seq.items());
  if (unit == 0) return seq;  // empty stays empty, however large n is
  RETURN_IF_ERROR(in.CheckSize(static_cast<uint64_t>(n), unit, offset));
  if (seq.is_string()) {
    std::string out;
    out.reserve(seq.AsString().size() * static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out += seq.AsString();
    return Value(std::move(out));
  }
  Value::Array out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.items().begin(), seq.items().end());
  return seq.is_tuple() ? Value::NewTuple(std::move(out)) : Value::NewArray(std::move(out));
}

Expected<Value> IntPow(const Interpreter& in, int64_t base, int64_t exp, size_t offset) {
  if (exp < 0) {
    if (base == 0) return in.Error(offset, "0.0 cannot be raised to a negative power");
    return Value(std::pow(static_cast<double>(base), static_cast<double>(exp)));
  }
  int64_t result = 1;
  int64_t b = base;
  while (exp > 0) {
    if (exp & 1) {
      if (__builtin_mul_overflow(result, b, &result)) return in.Error(offset, "integer overflow");
    }
    exp >>= 1;
    if (exp > 0 && __builtin_mul_overflow(b, b, &b)) return in.Error(offset, "integer overflow");
  }
  return Value(result);
}

}  // namespace

Expected<Value> BinaryOp(const Interpreter& in, std::string_view op, const Value& a,
                         const Value& b, size_t offset) {
  if (op == "%" && a.is_string()) return PercentFormat(in, a.AsString(), b, offset);
  if (a.is_undefined()) return in.UndefinedError(a, offset);
  if (b.is_undefined()) return in.UndefinedError(b, offset);
  const bool nums = a.is_number() && b.is_number();
  const bool ints = nums && !a.is_double() && !b.is_double();
  if (op == "+") {
    if (ints) {
      int64_t r;
      if (__builtin_add_overflow(a.AsInt(), b.AsInt(), &r)) return in.Error(offset, "integer overflow");
      return Value(r);
    }
    if (nums) return Value(a.AsDouble() + b.AsDouble());
    if (a.is_string() && b.is_string()) {
      RETURN_IF_ERROR(in.CheckSize(a.AsString().size() + b.AsString().size(), 1, offset));
      return Value(a.AsString() + b.AsString());
    }
    if (a.is_array() && b.is_array() && a.is_tuple() == b.is_tuple()) {
      RETURN_IF_ERROR(in.CheckSize(ListBytes(a.items()) + ListBytes(b.items()), 1, offset));
      Value::Array out = a.items();
      out.insert(out.end(), b.items().begin(), b.items().end());
      return a.is_tuple() ? Value::NewTuple(std::move(out)) : Value::NewArray(std::move(out));
    }
    return Unsupported(in, op, a, b, offset);
  }
  if (op == "-") {
    if (ints) {
      int64_t r;
      if (__builtin_sub_overflow(a.AsInt(), b.AsInt(), &r)) return in.Error(offset, "integer overflow");
      return Value(r);
    }
    if (nums) return Value(a.AsDouble() - b.AsDouble());
    return Unsupported(in, op, a, b, offset);
  }
  if (op == "*") {
    if (ints) {
      int64_t r;
      if (__builtin_mul_overflow(a.AsInt(), b.AsInt(), &r)) return in.Error(offset, "integer overflow");
      return Value(r);
    }
    if (nums) return Value(a.AsDouble() * b.AsDouble());
    if ((a.is_string() || a.is_array()) && (b.is_int() || b.is_bool())) {
      return Repeat(in, a, b.AsInt(), offset);
    }
    if ((b.is_string() || b.is_array()) && (a.is_int() || a.is_bool())) {
      return Repeat(in, b, a.AsInt(), offset);
    }
    return Unsupported(in, op, a, b, offset);
  }
  if (op == "/") {
    if (!nums) return Unsupported(in, op, a, b, offset);
    if (b.AsDouble() == 0.0) return in.Error(offset, "division by zero");
    if (ints) {  // Python divides ints exactly, then rounds once; long double holds any int64
      return Value(static_cast<double>(static_cast<long double>(a.AsInt()) /
                                       static_cast<long double>(b.AsInt())));
    }
    return Value(a.AsDouble() / b.AsDouble());
  }
  if (op == "//" || op == "%") {
    if (!nums) return Unsupported(in, op, a, b, offset);
    if (b.AsDouble() == 0.0) {
      return in.Error(offset, op == "%" ? "modulo by zero" : "integer division or modulo by zero");
    }
    if (ints) {
      const int64_t x = a.AsInt(), y = b.AsInt();
      if (x == INT64_MIN && y == -1) return in.Error(offset, "integer overflow");
      int64_t q = x / y, r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) {
        q -= 1;
        r += y;
      }
      return Value(op == "//" ? q : r);
    }
    double fd, m;
    FloatDivMod(a.AsDouble(), b.AsDouble(), &fd, &m);
    return Value(op == "//" ? fd : m);
  }
  if (op == "**") {
    if (ints) return IntPow(in, a.AsInt(), b.AsInt(), offset);
    if (nums) {
      if (a.AsDouble() == 0.0 && b.AsDouble() < 0) {
        return in.Error(offset, "0.0 cannot be raised to a negative power");
      }
      if (a.AsDouble() < 0 && b.AsDouble() != std::floor(b.AsDouble())) {
        return in.Error(offset, "unsupported: complex result of '**'");  // Python gives complex
      }
      const double r = std::pow(a.AsDouble(), b.AsDouble());
      if (std::isinf(r) && std::isfinite(a.AsDouble()) && std::isfinite(b.AsDouble())) {
        return in.Error(offset, "(34, 'Numerical result out of range')");  // Python OverflowError
      }
      return Value(r);
    }
    return Unsupported(in, op, a, b, offset);
  }
  return in.Error(offset, "unknown operator '" + std::string(op) + "'");
}

Expected<int> Compare(const Interpreter& in, const Value& a, const Value& b, size_t offset) {
  if (a.is_undefined()) return in.UndefinedError(a, offset);
  if (b.is_undefined()) return in.UndefinedError(b, offset);
  if (a.is_number() && b.is_number()) {
    if (a.is_double() || b.is_double()) {
      const double x = a.AsDouble(), y = b.AsDouble();
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    const int64_t x = a.AsInt(), y = b.AsInt();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.AsString().compare(b.AsString());  // UTF-8 byte order == code point order
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_array() && b.is_array() && a.is_tuple() == b.is_tuple()) {
    const auto& x = a.items();
    const auto& y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!PyEquals(x[i], y[i])) return Compare(in, x[i], y[i], offset);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  return in.Error(offset, "'<' not supported between instances of '" + TypeName(a) + "' and '" +
                              TypeName(b) + "'");
}

Expected<bool> Contains(const Interpreter& in, const Value& container, const Value& item,
                        size_t offset) {
  switch (container.kind()) {
    case Value::Kind::kString:
      if (item.is_undefined()) return in.UndefinedError(item, offset);
      if (!item.is_string()) {
        return in.Error(offset, "'in <string>' requires string as left operand, not " + TypeName(item));
      }
      return container.AsString().find(item.AsString()) != std::string::npos;
    case Value::Kind::kArray:
      for (const Value& v : container.items()) {
        if (PyEquals(v, item)) return true;
      }
      return false;
    case Value::Kind::kObject:
      if (item.is_array() && !item.is_tuple()) return in.Error(offset, "unhashable type: 'list'");
      if (item.is_object()) return in.Error(offset, "unhashable type: 'dict'");
      return item.is_string() && container.Find(item.AsString()) != nullptr;
    case Value::Kind::kUndefined:
      return false;
    default:
      return in.Error(offset, "argument of type '" + TypeName(container) + "' is not iterable");
  }
}

}  // namespace semantic::chat::tmpl
