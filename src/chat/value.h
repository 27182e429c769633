// chat::Value: the JSON-like value a chat template sees (null, bool, int64, double, string, array,
// object with insertion order), plus three kinds only the template engine creates (undefined,
// namespace, callable). Arrays and objects are shared copy-on-write, so copies are cheap.
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace semantic::chat {

struct CallableData;  // defined by the engine (template_eval.h)

class Value {
 public:
  enum class Kind {
    kNull, kBool, kInt, kDouble, kString, kArray, kObject,
    kUndefined,  // engine-internal: a missing variable/attribute (jinja2 Undefined)
    kNamespace,  // engine-internal: namespace() object, shared by reference
    kCallable,   // engine-internal: builtin function, macro or bound method
  };
  using Array = std::vector<Value>;
  using Member = std::pair<std::string, Value>;
  using Object = std::vector<Member>;  // insertion order, keys unique

  Value() = default;  // null
  Value(std::nullptr_t) {}  // NOLINT(implicit)
  Value(bool b) : v_(b) {}  // NOLINT(implicit)
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  Value(T i) : v_(static_cast<int64_t>(i)) {}  // NOLINT(implicit)
  Value(double d) : v_(d) {}                   // NOLINT(implicit)
  Value(const char* s) : v_(std::string(s)) {}  // NOLINT(implicit)
  Value(std::string s) : v_(std::move(s)) {}    // NOLINT(implicit)
  Value(std::string_view s) : v_(std::string(s)) {}  // NOLINT(implicit)

  static Value NewArray(Array items = {});
  static Value NewTuple(Array items);  // a Python tuple: an array that prints as (a, b)
  static Value NewObject(Object members = {});  // later duplicates of a key replace earlier ones
  static Value Undefined(std::string hint);     // hint: the error raised when it is used
  static Value NewNamespace(Object members = {});
  static Value NewCallable(std::shared_ptr<const CallableData> fn);

  // Builders (copy-on-write). Append: array only. Set: object or namespace; replaces in place.
  Value& Append(Value v);
  Value& Set(std::string key, Value v);
  // Engine-internal: empties a namespace (breaks reference cycles when a render ends).
  void ClearNamespace();

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_null() const { return kind() == Kind::kNull; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_double() const { return kind() == Kind::kDouble; }
  bool is_number() const { return is_int() || is_double() || is_bool(); }  // Python: bool is int
  bool is_string() const { return kind() == Kind::kString; }
  bool is_array() const { return kind() == Kind::kArray; }  // lists and tuples
  bool is_tuple() const;
  bool is_object() const { return kind() == Kind::kObject; }
  bool is_undefined() const { return kind() == Kind::kUndefined; }
  bool is_namespace() const { return kind() == Kind::kNamespace; }
  bool is_callable() const { return kind() == Kind::kCallable; }

  bool AsBool() const { return std::get<bool>(v_); }
  int64_t AsInt() const;      // int or bool
  double AsDouble() const;    // int, bool or double
  const std::string& AsString() const { return std::get<std::string>(v_); }
  const Array& items() const;      // array; empty for other kinds
  const Object& members() const;   // object or namespace; empty for other kinds
  const std::string& undefined_hint() const;
  const std::shared_ptr<const CallableData>& callable() const;
  // Object/namespace member lookup; null when absent or not an object.
  const Value* Find(std::string_view key) const;
  // Identity of a namespace (namespaces compare by reference).
  const void* namespace_id() const;

  // Python truthiness (undefined is false).
  bool Truthy() const;

 private:
  struct ArrayBox {
    std::shared_ptr<Array> p;
    bool tuple = false;
  };
  struct ObjectBox { std::shared_ptr<Object> p; };
  struct UndefinedBox { std::shared_ptr<const std::string> hint; };
  struct NamespaceBox { std::shared_ptr<Object> p; };
  struct CallableBox { std::shared_ptr<const CallableData> fn; };
  std::variant<std::monostate, bool, int64_t, double, std::string, ArrayBox, ObjectBox,
               UndefinedBox, NamespaceBox, CallableBox>
      v_;
};

// Python `==` semantics: numbers compare across int/float/bool, containers deeply, dicts
// regardless of order, undefined equals only undefined, namespaces by identity.
bool PyEquals(const Value& a, const Value& b);

// Python type name used in error messages ("str", "int", "dict", "list", "NoneType", ...).
std::string_view PyTypeName(const Value& v);

}  // namespace semantic::chat
