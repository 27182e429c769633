// Fuzzes the safetensors container reader from raw bytes: the 8-byte header length, the JSON
// header (dtypes, shapes, data_offsets, __metadata__) and the byte range each tensor claims. A
// parsed file must describe only bytes inside the input, sized by dtype x shape.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "loader/safetensors/safetensors_file.h"

using namespace semantic;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = loader::SafetensorsFile::FromBytes("fuzz.safetensors", data, size);
  if (!parsed.ok()) return 0;
  for (const auto& [name, t] : (*parsed)->tensors()) {
    FUZZ_CHECK(name == t.name);
    FUZZ_CHECK(t.nbytes == static_cast<size_t>(t.n_elements()) * loader::StDTypeBytes(t.dtype));
    FUZZ_CHECK(t.nbytes <= size);
    if (t.nbytes > 0) {  // both ends lie inside the copy (ASan checks the reads)
      volatile uint8_t first = t.data[0], last = t.data[t.nbytes - 1];
      (void)first;
      (void)last;
    }
    (void)loader::StDTypeName(t.dtype);
  }
  return 0;
}
