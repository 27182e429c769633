// chat::Value construction, copy-on-write builders, Python truthiness and equality.
#include "chat/value.h"

#include "base/check.h"

namespace semantic::chat {

Value Value::NewArray(Array items) {
  Value v;
  v.v_ = ArrayBox{std::make_shared<Array>(std::move(items))};
  return v;
}

Value Value::NewTuple(Array items) {
  Value v;
  v.v_ = ArrayBox{std::make_shared<Array>(std::move(items)), true};
  return v;
}

bool Value::is_tuple() const {
  const auto* box = std::get_if<ArrayBox>(&v_);
  return box != nullptr && box->tuple;
}

Value Value::NewObject(Object members) {
  Value v;
  v.v_ = ObjectBox{std::make_shared<Object>()};
  for (auto& [k, val] : members) v.Set(std::move(k), std::move(val));
  return v;
}

Value Value::Undefined(std::string hint) {
  Value v;
  v.v_ = UndefinedBox{std::make_shared<const std::string>(std::move(hint))};
  return v;
}

Value Value::NewNamespace(Object members) {
  Value v;
  v.v_ = NamespaceBox{std::make_shared<Object>()};
  for (auto& [k, val] : members) v.Set(std::move(k), std::move(val));
  return v;
}

Value Value::NewCallable(std::shared_ptr<const CallableData> fn) {
  Value v;
  v.v_ = CallableBox{std::move(fn)};
  return v;
}

Value& Value::Append(Value item) {
  CHECK(is_array());
  auto& box = std::get<ArrayBox>(v_);
  if (box.p.use_count() != 1) box.p = std::make_shared<Array>(*box.p);
  box.p->push_back(std::move(item));
  return *this;
}

Value& Value::Set(std::string key, Value item) {
  Object* obj = nullptr;
  if (auto* ns = std::get_if<NamespaceBox>(&v_)) {
    obj = ns->p.get();  // namespaces are shared by reference on purpose
  } else {
    CHECK(is_object());
    auto& box = std::get<ObjectBox>(v_);
    if (box.p.use_count() != 1) box.p = std::make_shared<Object>(*box.p);
    obj = box.p.get();
  }
  for (auto& [k, v] : *obj) {
    if (k == key) {
      v = std::move(item);
      return *this;
    }
  }
  obj->emplace_back(std::move(key), std::move(item));
  return *this;
}

void Value::ClearNamespace() {
  if (auto* ns = std::get_if<NamespaceBox>(&v_)) ns->p->clear();
}

int64_t Value::AsInt() const {
  if (is_bool()) return AsBool() ? 1 : 0;
  return std::get<int64_t>(v_);
}

double Value::AsDouble() const {
  if (is_double()) return std::get<double>(v_);
  return static_cast<double>(AsInt());
}

const Value::Array& Value::items() const {
  static const Array kEmpty;
  if (const auto* box = std::get_if<ArrayBox>(&v_)) return *box->p;
  return kEmpty;
}

const Value::Object& Value::members() const {
  static const Object kEmpty;
  if (const auto* box = std::get_if<ObjectBox>(&v_)) return *box->p;
  if (const auto* ns = std::get_if<NamespaceBox>(&v_)) return *ns->p;
  return kEmpty;
}

const std::string& Value::undefined_hint() const {
  static const std::string kEmpty;
  if (const auto* box = std::get_if<UndefinedBox>(&v_)) return *box->hint;
  return kEmpty;
}

const std::shared_ptr<const CallableData>& Value::callable() const {
  static const std::shared_ptr<const CallableData> kNone;
  if (const auto* box = std::get_if<CallableBox>(&v_)) return box->fn;
  return kNone;
}

const Value* Value::Find(std::string_view key) const {
  for (const auto& [k, v] : members()) {
    if (k == key) return &v;
  }
  return nullptr;
}

const void* Value::namespace_id() const {
  if (const auto* ns = std::get_if<NamespaceBox>(&v_)) return ns->p.get();
  return nullptr;
}

bool Value::Truthy() const {
  switch (kind()) {
    case Kind::kNull:
    case Kind::kUndefined:
      return false;
    case Kind::kBool:
      return AsBool();
    case Kind::kInt:
      return AsInt() != 0;
    case Kind::kDouble:
      return AsDouble() != 0.0;
    case Kind::kString:
      return !AsString().empty();
    case Kind::kArray:
      return !items().empty();
    case Kind::kObject:
      return !members().empty();
    case Kind::kNamespace:
    case Kind::kCallable:
      return true;
  }
  return false;
}

bool PyEquals(const Value& a, const Value& b) {
  using K = Value::Kind;
  if (a.is_number() && b.is_number()) {
    if (a.is_double() || b.is_double()) return a.AsDouble() == b.AsDouble();
    return a.AsInt() == b.AsInt();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::kNull:
    case K::kUndefined:
      return true;
    case K::kString:
      return a.AsString() == b.AsString();
    case K::kArray: {
      if (a.is_tuple() != b.is_tuple()) return false;
      const auto& x = a.items();
      const auto& y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!PyEquals(x[i], y[i])) return false;
      }
      return true;
    }
    case K::kObject: {
      if (a.members().size() != b.members().size()) return false;
      for (const auto& [k, v] : a.members()) {
        const Value* other = b.Find(k);
        if (other == nullptr || !PyEquals(v, *other)) return false;
      }
      return true;
    }
    case K::kNamespace:
      return a.namespace_id() == b.namespace_id();
    case K::kCallable:
      return a.callable() == b.callable();
    default:
      return false;
  }
}

std::string_view PyTypeName(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: return "NoneType";
    case Value::Kind::kBool: return "bool";
    case Value::Kind::kInt: return "int";
    case Value::Kind::kDouble: return "float";
    case Value::Kind::kString: return "str";
    case Value::Kind::kArray: return v.is_tuple() ? "tuple" : "list";
    case Value::Kind::kObject: return "dict";
    case Value::Kind::kUndefined: return "Undefined";
    case Value::Kind::kNamespace: return "Namespace";
    case Value::Kind::kCallable: return "function";
  }
  return "object";
}

}  // namespace semantic::chat
