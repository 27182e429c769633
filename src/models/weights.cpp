// Typed, shape-checked tensor access for model loaders.
#include "models/weights.h"

namespace semantic::models {
namespace {

std::string Shape(const loader::GgufTensor& t) {
  std::string s = "{";
  for (int i = 0; i < t.n_dims; ++i) s += (i ? ", " : "") + std::to_string(t.ne[i]);
  return s + "}";
}

Expected<const loader::GgufTensor*> Find(const loader::GgufFile& f, const std::string& name) {
  const loader::GgufTensor* t = f.FindTensor(name);
  if (!t) return NotFound(f.path() + ": missing tensor '" + name + "'");
  if (!quant::IsSupportedWeightType(t->type)) {
    return Unimplemented(f.path() + ": tensor '" + name + "' has dtype " +
                         std::string(quant::GetDTypeInfo(t->type)->name) +
                         ", which semantic cannot compute with yet");
  }
  return t;
}

}  // namespace

bool HasTensor(const loader::GgufFile& f, const std::string& name) {
  return f.FindTensor(name) != nullptr;
}

void PackMatrix(const loader::GgufFile& f, kernels::WeightView* w, kernels::PackedWeights* store) {
  if (w->data == nullptr || w->rows <= 0) return;
  const void* mapped = w->data;
  store->Pack(w);
  if (w->packed == nullptr) store->Place(w);  // kept as GGUF bytes, but on huge pages too
  if (w->packed != nullptr || w->data != mapped) f.ReleasePages(mapped, w->rows * w->row_bytes);
}

Expected<kernels::WeightView> GetMatrix(const loader::GgufFile& f, const std::string& name,
                                        int64_t cols, int64_t rows) {
  ASSIGN_OR_RETURN(const loader::GgufTensor* t, Find(f, name));
  if (t->ne[0] != cols || t->ne[1] != rows || t->ne[2] != 1 || t->ne[3] != 1) {
    return InvalidArgument(f.path() + ": tensor '" + name + "' has shape " + Shape(*t) +
                           ", expected {" + std::to_string(cols) + ", " + std::to_string(rows) +
                           "}");
  }
  kernels::WeightView w;
  w.type = t->type;
  w.rows = rows;
  w.cols = cols;
  w.row_bytes = quant::RowBytes(t->type, cols);
  w.data = t->data;
  return w;
}

Expected<std::vector<kernels::WeightView>> GetMatrixStack(const loader::GgufFile& f,
                                                          const std::string& name, int64_t cols,
                                                          int64_t rows, int64_t n) {
  ASSIGN_OR_RETURN(const loader::GgufTensor* t, Find(f, name));
  if (t->ne[0] != cols || t->ne[1] != rows || t->ne[2] != n || t->ne[3] != 1) {
    return InvalidArgument(f.path() + ": tensor '" + name + "' has shape " + Shape(*t) +
                           ", expected {" + std::to_string(cols) + ", " + std::to_string(rows) +
                           ", " + std::to_string(n) + "}");
  }
  const size_t row_bytes = quant::RowBytes(t->type, cols);
  std::vector<kernels::WeightView> out(n);
  for (int64_t i = 0; i < n; ++i) {
    out[i] = {t->type, rows, cols, row_bytes, t->data + static_cast<size_t>(i * rows) * row_bytes};
  }
  return out;
}

Expected<std::vector<float>> GetVector(const loader::GgufFile& f, const std::string& name,
                                       int64_t n) {
  ASSIGN_OR_RETURN(const loader::GgufTensor* t, Find(f, name));
  if (t->n_elements() != n) {
    return InvalidArgument(f.path() + ": tensor '" + name + "' has shape " + Shape(*t) +
                           ", expected " + std::to_string(n) + " elements");
  }
  kernels::WeightView w{t->type, 1, n, quant::RowBytes(t->type, n), t->data};
  std::vector<float> out(n);
  kernels::DequantizeRow(w, 0, out.data());
  return out;
}

}  // namespace semantic::models
