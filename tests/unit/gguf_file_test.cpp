// GgufFile tests: round-trip of every metadata type and tensor geometry through a test writer,
// then deliberately damaged files, each of which must fail with a message naming file and fault.
#include "loader/gguf/gguf_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gguf_test_writer.h"

namespace semantic::loader {
namespace {

using namespace semantic::testing;  // NOLINT: test helpers
using quant::DType;

constexpr uint32_t kF32 = 0, kF16 = 1, kQ8_0 = 8, kQ4_K = 12;

std::string TempPath(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string dir = ::testing::TempDir();
  if (!dir.empty() && dir.back() != '/') dir += '/';
  std::string test = std::string(info->test_suite_name()) + "_" + info->name();
  for (char& c : test) {
    if (c == '/') c = '_';
  }
  return dir + "gguf_" + test + "_" + std::to_string(::getpid()) + "_" + name + ".gguf";
}

// Writes bytes to a temp file and opens it; the file is removed afterwards.
Expected<std::unique_ptr<GgufFile>> OpenBytes(const std::vector<uint8_t>& bytes,
                                              std::string* path_out = nullptr,
                                              const std::string& name = "f") {
  std::string path = TempPath(name);
  if (!WriteBytes(path, bytes)) return IoError("cannot write " + path);
  auto r = GgufFile::Open(path);
  std::filesystem::remove(path);
  if (path_out) *path_out = path;
  return r;
}

// Opening must fail and the message must name the file and contain `needle`.
void ExpectFails(const std::vector<uint8_t>& bytes, const std::string& needle) {
  std::string path;
  auto r = OpenBytes(bytes, &path);
  ASSERT_FALSE(r.ok()) << "expected failure containing: " << needle;
  const std::string& msg = r.status().message();
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find(needle), std::string::npos) << "message: " << msg << "\nwanted: " << needle;
}

// A file with every metadata type and four tensors (F32, F16, Q8_0, Q4_K).
GgufTestWriter FullWriter(uint32_t version) {
  GgufTestWriter w(version);
  w.Add("general.architecture", Str("llama"));
  w.Add("t.u8", U8(250));
  w.Add("t.i8", I8(-7));
  w.Add("t.u16", U16(65535));
  w.Add("t.i16", I16(-32768));
  w.Add("t.u32", U32(4000000000u));
  w.Add("t.i32", I32(-123456));
  w.Add("t.u64", U64(std::numeric_limits<uint64_t>::max()));
  w.Add("t.i64", I64(std::numeric_limits<int64_t>::min()));
  w.Add("t.f32", F32(0.1f));
  w.Add("t.f64", F64(-2.5e-300));
  w.Add("t.true", Bool(true));
  w.Add("t.false", Bool(false));
  w.Add("t.str", Str("héllo\nworld"));
  w.Add("t.empty_str", Str(""));
  w.Add("t.arr_u8", Arr(GgufType::kU8, {U8(1), U8(2), U8(255)}));
  w.Add("t.arr_i32", Arr(GgufType::kI32, {I32(-1), I32(0), I32(7)}));
  w.Add("t.arr_f32", Arr(GgufType::kF32, {F32(1.5f), F32(-2.0f)}));
  w.Add("t.arr_f64", Arr(GgufType::kF64, {F64(3.25)}));
  w.Add("t.arr_bool", Arr(GgufType::kBool, {Bool(true), Bool(false)}));
  w.Add("t.arr_u64", Arr(GgufType::kU64, {U64(1ull << 40)}));
  w.Add("t.arr_str", Arr(GgufType::kString, {Str("a"), Str(""), Str("ccc")}));
  w.Add("t.arr_empty", Arr(GgufType::kI16, {}));
  w.Add("t.nested", Arr(GgufType::kArray,
                        {Arr(GgufType::kU32, {U32(1), U32(2)}), Arr(GgufType::kString, {Str("x")}),
                         Arr(GgufType::kArray, {Arr(GgufType::kI8, {I8(-1)})})}));
  w.AddTensor({"f32", kF32, {8}, {}});
  w.AddTensor({"f16", kF16, {4, 3}, {}});
  w.AddTensor({"q8", kQ8_0, {64, 2}, {}});
  w.AddTensor({"q4k", kQ4_K, {256, 2, 1, 2}, {}});
  return w;
}

class GgufRoundTrip : public ::testing::TestWithParam<uint32_t> {};

TEST_P(GgufRoundTrip, EveryValueTypeAndTensor) {
  GgufTestWriter w = FullWriter(GetParam());
  TestLayout layout;
  std::vector<uint8_t> bytes = w.Build(&layout);
  std::string path = TempPath("ok");
  ASSERT_TRUE(WriteBytes(path, bytes));
  auto r = GgufFile::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const GgufFile& f = **r;
  EXPECT_EQ(f.path(), path);
  EXPECT_EQ(f.version(), GetParam());
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.file_size(), bytes.size());
  EXPECT_EQ(f.data_offset(), layout.data_offset);
  EXPECT_EQ(f.data_offset() % 32, 0u);

  ASSERT_EQ(f.metadata().size(), 24u);
  EXPECT_EQ(f.metadata()[0].first, "general.architecture");
  EXPECT_EQ(f.metadata()[23].first, "t.nested");
  EXPECT_EQ(*f.GetString("general.architecture"), "llama");
  EXPECT_EQ(*f.GetInt("t.u8"), 250);
  EXPECT_EQ(f.Find("t.u8")->type, GgufType::kU8);
  EXPECT_EQ(*f.GetInt("t.i8"), -7);
  EXPECT_EQ(*f.GetInt("t.u16"), 65535);
  EXPECT_EQ(*f.GetInt("t.i16"), -32768);
  EXPECT_EQ(*f.GetInt("t.u32"), 4000000000LL);
  EXPECT_EQ(*f.GetInt("t.i32"), -123456);
  EXPECT_EQ(std::get<uint64_t>(f.Find("t.u64")->v), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(*f.GetInt("t.i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(static_cast<float>(*f.GetFloat("t.f32")), 0.1f);
  EXPECT_EQ(*f.GetFloat("t.f64"), -2.5e-300);
  EXPECT_TRUE(*f.GetBool("t.true"));
  EXPECT_FALSE(*f.GetBool("t.false"));
  EXPECT_EQ(*f.GetString("t.str"), "héllo\nworld");
  EXPECT_EQ(*f.GetString("t.empty_str"), "");
  EXPECT_EQ(*f.GetIntArray("t.arr_u8"), (std::vector<int64_t>{1, 2, 255}));
  EXPECT_EQ(*f.GetIntArray("t.arr_i32"), (std::vector<int64_t>{-1, 0, 7}));
  EXPECT_EQ(*f.GetFloatArray("t.arr_f32"), (std::vector<double>{1.5, -2.0}));
  EXPECT_EQ(*f.GetFloatArray("t.arr_f64"), (std::vector<double>{3.25}));
  EXPECT_EQ(*f.GetIntArray("t.arr_bool"), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(*f.GetIntArray("t.arr_u64"), (std::vector<int64_t>{1LL << 40}));
  EXPECT_EQ(*f.GetStringArray("t.arr_str"), (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_TRUE(f.GetIntArray("t.arr_empty")->empty());

  const GgufValue* nested = f.Find("t.nested");
  ASSERT_NE(nested, nullptr);
  const auto& outer = std::get<std::shared_ptr<GgufArray>>(nested->v);
  ASSERT_EQ(outer->elem_type, GgufType::kArray);
  ASSERT_EQ(outer->items.size(), 3u);
  const auto& a0 = std::get<std::shared_ptr<GgufArray>>(outer->items[0].v);
  EXPECT_EQ(a0->elem_type, GgufType::kU32);
  EXPECT_EQ(std::get<uint64_t>(a0->items[1].v), 2u);
  const auto& a1 = std::get<std::shared_ptr<GgufArray>>(outer->items[1].v);
  EXPECT_EQ(std::get<std::string>(a1->items[0].v), "x");
  const auto& a2 = std::get<std::shared_ptr<GgufArray>>(outer->items[2].v);
  const auto& a20 = std::get<std::shared_ptr<GgufArray>>(a2->items[0].v);
  EXPECT_EQ(std::get<int64_t>(a20->items[0].v), -1);
  EXPECT_EQ(FormatGgufValue(*nested), "[[1, 2], ['x'], [[-1]]]");

  ASSERT_EQ(f.tensors().size(), 4u);
  const DType want_types[] = {DType::kF32, DType::kF16, DType::kQ8_0, DType::kQ4_K};
  const size_t want_bytes[] = {32, 24, 2 * 2 * 34, 4 * 144};
  for (size_t i = 0; i < 4; ++i) {
    const GgufTensor& t = f.tensors()[i];
    const TestTensor& src = w.tensors()[i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.name, src.name);
    EXPECT_EQ(f.FindTensor(src.name), &t);
    EXPECT_EQ(t.type, want_types[i]);
    EXPECT_EQ(t.n_dims, static_cast<int>(src.ne.size()));
    for (int d = 0; d < 4; ++d) {
      EXPECT_EQ(t.ne[d], d < t.n_dims ? static_cast<int64_t>(src.ne[d]) : 1);
    }
    EXPECT_EQ(t.nbytes, want_bytes[i]);
    EXPECT_EQ(t.offset % 32, 0u);
    ASSERT_EQ(src.data.size(), t.nbytes);
    EXPECT_EQ(std::memcmp(t.data, src.data.data(), t.nbytes), 0);
  }
  EXPECT_EQ(f.tensors()[3].n_elements(), 1024);
  EXPECT_EQ(f.FindTensor("missing"), nullptr);
  std::filesystem::remove(path);
}

INSTANTIATE_TEST_SUITE_P(Versions, GgufRoundTrip, ::testing::Values(2u, 3u));

TEST(GgufFile, TensorDataPointsIntoMapping) {
  GgufTestWriter w = FullWriter(3);
  TestLayout layout;
  auto bytes = w.Build(&layout);
  auto r = OpenBytes(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const GgufFile& f = **r;
  const uint8_t* base = f.tensors()[0].data - layout.t_data_pos[0];
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    EXPECT_EQ(f.tensors()[i].data, base + layout.t_data_pos[i]);
    EXPECT_EQ(f.tensors()[i].data, base + f.data_offset() + f.tensors()[i].offset);
  }
}

// Released tensor pages read back unchanged (from the file), mapped or assembled in memory.
TEST(GgufFile, ReleasedPagesReadBackUnchanged) {
  GgufTestWriter w = FullWriter(3);
  TestLayout layout;
  auto bytes = w.Build(&layout);
  for (bool mapped : {true, false}) {
    auto r = mapped ? OpenBytes(bytes) : GgufFile::FromBytes("mem", bytes.data(), bytes.size());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const GgufFile& f = **r;
    std::vector<std::vector<uint8_t>> before;
    for (const GgufTensor& t : f.tensors()) before.emplace_back(t.data, t.data + t.nbytes);
    for (const GgufTensor& t : f.tensors()) f.ReleasePages(t.data, t.nbytes);
    f.ReleasePages(f.tensors()[0].data, bytes.size() + 8192);  // clamped to the mapping
    for (size_t i = 0; i < f.tensors().size(); ++i) {
      const GgufTensor& t = f.tensors()[i];
      EXPECT_EQ(std::vector<uint8_t>(t.data, t.data + t.nbytes), before[i]) << mapped << " " << i;
    }
  }
}

TEST(GgufFile, CustomAlignment) {
  GgufTestWriter w(3);
  w.Add("general.alignment", U32(64));
  w.SetLayoutAlignment(64);
  w.AddTensor({"a", kF32, {3}, {}});
  w.AddTensor({"b", kQ8_0, {32}, {}});
  auto r = OpenBytes(w.Build());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->alignment(), 64u);
  EXPECT_EQ((*r)->data_offset() % 64, 0u);
  EXPECT_EQ((*r)->tensors()[1].offset, 64u);
}

TEST(GgufFile, NoTensorsNoData) {
  GgufTestWriter w(3);
  w.Add("k", U32(1));
  auto r = OpenBytes(w.Build());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE((*r)->tensors().empty());
}

TEST(GgufFile, TypedGetterErrors) {
  GgufTestWriter w = FullWriter(3);
  auto r = OpenBytes(w.Build());
  ASSERT_TRUE(r.ok());
  const GgufFile& f = **r;
  EXPECT_EQ(f.GetInt("nope").status().code(), StatusCode::kNotFound);
  EXPECT_NE(f.GetInt("nope").status().message().find("'nope'"), std::string::npos);
  EXPECT_EQ(f.GetInt("t.str").status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(f.GetInt("t.str").status().message().find("has type STRING"), std::string::npos);
  EXPECT_FALSE(f.GetInt("t.u64").ok());  // does not fit int64
  EXPECT_EQ(*f.GetInt("t.true"), 1);
  EXPECT_EQ(*f.GetFloat("t.i32"), -123456.0);
  EXPECT_FALSE(f.GetFloat("t.true").ok());
  EXPECT_FALSE(f.GetBool("t.u8").ok());
  EXPECT_FALSE(f.GetString("t.arr_str").ok());
  EXPECT_FALSE(f.GetStringArray("t.arr_i32").ok());
  EXPECT_NE(f.GetStringArray("t.arr_i32").status().message().find("[INT32]"), std::string::npos);
  EXPECT_FALSE(f.GetIntArray("t.arr_f32").ok());
  EXPECT_FALSE(f.GetFloatArray("t.arr_str").ok());
  EXPECT_FALSE(f.GetIntArray("t.u8").ok());
  EXPECT_EQ(*f.GetFloatArray("t.arr_i32"), (std::vector<double>{-1, 0, 7}));
  EXPECT_EQ(f.GetIntOr("t.i8", 5), -7);
  EXPECT_EQ(f.GetIntOr("absent", 5), 5);
  EXPECT_EQ(f.GetIntOr("t.str", 5), 5);
  EXPECT_EQ(f.GetFloatOr("absent", 1.5), 1.5);
  EXPECT_EQ(f.GetFloatOr("t.f64", 1.5), -2.5e-300);
  EXPECT_TRUE(f.GetBoolOr("t.true", false));
  EXPECT_TRUE(f.GetBoolOr("absent", true));
  EXPECT_EQ(f.GetStringOr("general.architecture", "x"), "llama");
  EXPECT_EQ(f.GetStringOr("absent", "x"), "x");
}

TEST(GgufFile, FormatValues) {
  GgufTestWriter w = FullWriter(3);
  w.Add("t.long_arr", Arr(GgufType::kU16, {U16(1), U16(2), U16(3), U16(4)}));
  w.Add("t.long_str", Str(std::string(100, 'z')));
  auto r = OpenBytes(w.Build());
  ASSERT_TRUE(r.ok());
  const GgufFile& f = **r;
  EXPECT_EQ(FormatGgufValue(*f.Find("t.u8")), "250");
  EXPECT_EQ(FormatGgufValue(*f.Find("t.i8")), "-7");
  EXPECT_EQ(FormatGgufValue(*f.Find("t.f32")), "0.1");
  EXPECT_EQ(FormatGgufValue(*f.Find("t.true")), "true");
  EXPECT_EQ(FormatGgufValue(*f.Find("t.str")), "'héllo\\nworld'");
  EXPECT_EQ(FormatGgufValue(*f.Find("t.arr_str")), "['a', '', 'ccc']");
  EXPECT_EQ(FormatGgufValue(*f.Find("t.arr_f32")), "[1.5, -2.0]");
  EXPECT_EQ(FormatGgufValue(*f.Find("t.long_arr"), 2), "[1, 2, ...]");
  EXPECT_EQ(FormatGgufValue(*f.Find("t.long_arr"), std::numeric_limits<size_t>::max()),
            "[1, 2, 3, 4]");
  EXPECT_EQ(FormatGgufValue(*f.Find("t.long_str")), "'" + std::string(60, 'z') + "...");
  EXPECT_EQ(FormatGgufValue(*f.Find("t.long_str"), std::numeric_limits<size_t>::max()),
            "'" + std::string(100, 'z') + "'");
  EXPECT_STREQ(GgufTypeName(GgufType::kF64), "FLOAT64");
}

// ---- Damaged files -------------------------------------------------------------------------

TEST(GgufCorrupt, MissingAndEmptyFile) {
  auto r = GgufFile::Open("/nonexistent/dir/x.gguf");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/dir/x.gguf"), std::string::npos);
  ExpectFails({}, "not a GGUF file");
  ExpectFails({'G', 'G'}, "not a GGUF file");
}

TEST(GgufCorrupt, TruncatedAnywhere) {
  GgufTestWriter w = FullWriter(3);
  TestLayout layout;
  const auto bytes = w.Build(&layout);
  // Every cut inside the header, metadata, tensor infos and padding, then every 7th in data.
  std::vector<size_t> cuts;
  for (size_t n = 0; n < layout.data_offset; ++n) cuts.push_back(n);
  for (size_t n = layout.data_offset; n < bytes.size(); n += 7) cuts.push_back(n);
  cuts.push_back(bytes.size() - 1);
  const std::string path = TempPath("trunc");
  for (size_t n : cuts) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    ASSERT_TRUE(WriteBytes(path, cut));
    auto r = GgufFile::Open(path);
    ASSERT_FALSE(r.ok()) << "cut at " << n << " of " << bytes.size();
    const std::string& msg = r.status().message();
    EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
    const bool explained = msg.find("truncated") != std::string::npos ||
                           msg.find("past end of file") != std::string::npos ||
                           msg.find("could hold") != std::string::npos ||
                           msg.find("not a GGUF file") != std::string::npos;
    EXPECT_TRUE(explained) << "cut at " << n << ": " << msg;
  }
  std::filesystem::remove(path);
}

TEST(GgufCorrupt, WrongMagic) {
  auto bytes = FullWriter(3).Build();
  bytes[0] = 'X';
  ExpectFails(bytes, "bad magic 'XGUF'");
}

TEST(GgufCorrupt, UnsupportedVersions) {
  auto bytes = FullWriter(3).Build();
  Patch<uint32_t>(bytes, 4, 1);
  ExpectFails(bytes, "unsupported version 1");
  Patch<uint32_t>(bytes, 4, 99);
  ExpectFails(bytes, "unsupported version 99");
  Patch<uint32_t>(bytes, 4, 0x03000000);
  ExpectFails(bytes, "big-endian");
}

TEST(GgufCorrupt, HugeCounts) {
  auto bytes = FullWriter(3).Build();
  auto b = bytes;
  Patch<uint64_t>(b, 8, 1ull << 40);
  ExpectFails(b, "tensor_count 1099511627776 is larger than the file could hold");
  b = bytes;
  Patch<uint64_t>(b, 16, ~0ull);
  ExpectFails(b, "metadata_kv_count 18446744073709551615 is larger than the file could hold");
  b = bytes;
  Patch<uint64_t>(b, 16, 30);  // plausible but wrong: runs into the tensor infos
  std::string path;
  auto r = OpenBytes(b, &path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(path), std::string::npos);
}

TEST(GgufCorrupt, HugeStringLengths) {
  GgufTestWriter w = FullWriter(3);
  TestLayout l;
  const auto bytes = w.Build(&l);
  auto b = bytes;
  Patch<uint64_t>(b, l.kv_key_pos[3], 1ull << 62);
  ExpectFails(b, "metadata entry 3 key: string length 4611686018427387904 at offset " +
                     std::to_string(l.kv_key_pos[3]) + " runs past end of file");
  b = bytes;
  Patch<uint64_t>(b, l.kv_value_pos[0], ~0ull);  // general.architecture value
  ExpectFails(b, "metadata 'general.architecture': string length 18446744073709551615");
  b = bytes;
  Patch<uint64_t>(b, l.t_name_pos[1], bytes.size());
  ExpectFails(b, "tensor info 1 name: string length");
}

TEST(GgufCorrupt, HugeArrayLength) {
  GgufTestWriter w = FullWriter(3);
  TestLayout l;
  const auto bytes = w.Build(&l);
  auto b = bytes;
  const size_t arr_str = 21;  // t.arr_str
  ASSERT_EQ(bytes[l.kv_type_pos[arr_str]], static_cast<uint8_t>(GgufType::kArray));
  Patch<uint64_t>(b, l.kv_value_pos[arr_str] + 4, 1ull << 60);
  ExpectFails(b, "metadata 't.arr_str': array length 1152921504606846976 of STRING");
  b = bytes;
  Patch<uint64_t>(b, l.kv_value_pos[15] + 4, ~0ull);  // t.arr_u8
  ExpectFails(b, "runs past end of file");
  b = bytes;
  Patch<uint32_t>(b, l.kv_value_pos[15], 13);  // unknown element type
  ExpectFails(b, "metadata 't.arr_u8': unknown array element type 13");
}

TEST(GgufCorrupt, UnknownValueType) {
  GgufTestWriter w = FullWriter(3);
  TestLayout l;
  auto b = w.Build(&l);
  Patch<uint32_t>(b, l.kv_type_pos[1], 77);
  ExpectFails(b, "metadata 't.u8': unknown value type 77");
}

TEST(GgufCorrupt, NestingTooDeep) {
  TestValue v = U8(1);
  v = Arr(GgufType::kU8, {v});
  for (int i = 0; i < 20; ++i) v = Arr(GgufType::kArray, {v});
  GgufTestWriter w(3);
  w.Add("deep", v);
  ExpectFails(w.Build(), "metadata 'deep'[0][0][0][0][0][0][0][0]: arrays nested deeper than 8");
}

TEST(GgufCorrupt, BadTensorDims) {
  GgufTestWriter w = FullWriter(3);
  TestLayout l;
  const auto bytes = w.Build(&l);
  auto b = bytes;
  Patch<uint32_t>(b, l.t_ndims_pos[1], 0);
  ExpectFails(b, "tensor 'f16': n_dims 0 is not in 1..4");
  b = bytes;
  Patch<uint32_t>(b, l.t_ndims_pos[1], 5);
  ExpectFails(b, "tensor 'f16': n_dims 5 is not in 1..4");
  b = bytes;
  Patch<uint64_t>(b, l.t_ne_pos[1] + 8, 0);
  ExpectFails(b, "tensor 'f16': ne[1] = 0 is out of range");
  b = bytes;
  Patch<uint64_t>(b, l.t_ne_pos[3] + 8, 1ull << 40);   // q4k: 256 * 2^40 * 1 * 2 elements ok,
  Patch<uint64_t>(b, l.t_ne_pos[3] + 24, 1ull << 40);  // times 2^40 overflows int64
  ExpectFails(b, "tensor 'q4k': element count overflows");
  b = bytes;
  Patch<uint64_t>(b, l.t_ne_pos[3] + 8, 1ull << 40);
  ExpectFails(b, "tensor 'q4k': data [offset 224, 316659348799488 bytes] runs past end of file");
  b = bytes;
  Patch<uint64_t>(b, l.t_ne_pos[0], 1ull << 62);  // f32: 2^62 elements fit, 2^64 bytes do not
  ExpectFails(b, "tensor 'f32': byte size of F32 tensor (ne {4611686018427387904}) overflows");
}

TEST(GgufCorrupt, BlockSizeMismatch) {
  GgufTestWriter w(3);
  w.AddTensor({"q", kQ8_0, {48, 2}, {}});
  ExpectFails(w.Build(), "tensor 'q': ne[0] = 48 is not a multiple of the Q8_0 block size 32");
}

TEST(GgufCorrupt, UnknownDType) {
  GgufTestWriter w = FullWriter(3);
  TestLayout l;
  const auto bytes = w.Build(&l);
  for (uint32_t bad : {4u, 31u, 1000u}) {
    auto b = bytes;
    Patch<uint32_t>(b, l.t_type_pos[2], bad);
    ExpectFails(b, "tensor 'q8': unknown tensor type " + std::to_string(bad));
  }
}

TEST(GgufCorrupt, TensorOffsets) {
  GgufTestWriter w = FullWriter(3);
  TestLayout l;
  const auto bytes = w.Build(&l);
  auto b = bytes;
  Patch<uint64_t>(b, l.t_offset_pos[3], 1ull << 20);
  ExpectFails(b, "tensor 'q4k': data [offset 1048576, 576 bytes] runs past end of file (size " +
                     std::to_string(bytes.size()));
  b = bytes;
  Patch<uint64_t>(b, l.t_offset_pos[3], ~0ull - 31);  // aligned, would overflow offset + nbytes
  ExpectFails(b, "runs past end of file");
  b = bytes;
  uint64_t off = 0;
  std::memcpy(&off, bytes.data() + l.t_offset_pos[1], 8);
  Patch<uint64_t>(b, l.t_offset_pos[1], off + 4);
  ExpectFails(b, "tensor 'f16': offset " + std::to_string(off + 4) +
                     " is not a multiple of the alignment 32");
  b = bytes;
  Patch<uint64_t>(b, l.t_offset_pos[2], 0);  // q8 now overlaps f32 at offset 0
  ExpectFails(b, "overlaps tensor");
}

TEST(GgufCorrupt, BadAlignment) {
  for (uint32_t a : {0u, 3u, 48u, 0xffffffffu}) {
    GgufTestWriter w(3);
    w.Add("general.alignment", U32(a));
    w.AddTensor({"a", kF32, {4}, {}});
    ExpectFails(w.Build(), "general.alignment " + std::to_string(a) + " is not a power of two");
  }
  GgufTestWriter w(3);
  w.Add("general.alignment", Str("32"));
  ExpectFails(w.Build(), "general.alignment has type STRING");
}

TEST(GgufCorrupt, DuplicateNames) {
  GgufTestWriter w(3);
  w.Add("k", U32(1));
  w.Add("k", U32(2));
  ExpectFails(w.Build(), "metadata 'k': duplicate key");
  GgufTestWriter t(3);
  t.AddTensor({"w", kF32, {4}, {}});
  t.AddTensor({"w", kF32, {4}, {}});
  ExpectFails(t.Build(), "tensor 'w': duplicate tensor name");
}

TEST(GgufCorrupt, ControlCharsInNamesAreEscaped) {
  GgufTestWriter w(3);
  w.Add(std::string("a\x01\nb"), U32(1));
  w.Add(std::string("a\x01\nb"), U32(1));
  ExpectFails(w.Build(), "metadata 'a\\x01\\x0ab': duplicate key");
}

// Random byte damage in the header region must never crash; results are either OK or an error
// that names the file.
TEST(GgufCorrupt, RandomByteFlipsNeverCrash) {
  GgufTestWriter w = FullWriter(3);
  TestLayout l;
  const auto bytes = w.Build(&l);
  const std::string path = TempPath("fuzz");
  std::mt19937 rng(1234);
  std::uniform_int_distribution<size_t> pos(0, l.data_offset - 1);
  std::uniform_int_distribution<int> val(0, 255), nflips(1, 4);
  for (int iter = 0; iter < 1500; ++iter) {
    auto b = bytes;
    for (int k = nflips(rng); k > 0; --k) b[pos(rng)] = static_cast<uint8_t>(val(rng));
    ASSERT_TRUE(WriteBytes(path, b));
    auto r = GgufFile::Open(path);
    if (!r.ok()) {
      ASSERT_EQ(r.status().message().rfind(path + ": ", 0), 0u) << r.status().message();
    } else {
      for (const GgufTensor& t : (*r)->tensors()) {
        ASSERT_LE((*r)->data_offset() + t.offset + t.nbytes, b.size()) << t.name;
      }
    }
  }
  std::filesystem::remove(path);
}

// ---- The real model ------------------------------------------------------------------------

TEST(GgufRealModel, SmolLM2) {
  const char* src = std::getenv("SEMANTIC_SOURCE_DIR");
  std::string root = src ? src : SEMANTIC_SOURCE_DIR;
  const std::string path = root + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not present";
  auto r = GgufFile::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const GgufFile& f = **r;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(*f.GetInt("llama.block_count"), 30);
  EXPECT_EQ(*f.GetString("general.architecture"), "llama");
  EXPECT_EQ(f.GetStringArray("tokenizer.ggml.tokens")->size(), 49152u);
  EXPECT_EQ(f.GetStringArray("tokenizer.ggml.merges")->size(), 48900u);
  EXPECT_NEAR(*f.GetFloat("llama.attention.layer_norm_rms_epsilon"), 1e-5, 1e-9);
  ASSERT_EQ(f.tensors().size(), 272u);
  const GgufTensor* emb = f.FindTensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->type, DType::kQ8_0);
  EXPECT_EQ(emb->n_dims, 2);
  EXPECT_EQ(emb->ne[0], 576);
  EXPECT_EQ(emb->ne[1], 49152);
  EXPECT_EQ(emb->nbytes, 576u / 32 * 34 * 49152);
  const GgufTensor* q = f.FindTensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type, DType::kQ4_1);
}

}  // namespace
}  // namespace semantic::loader
