// ScanCacheDir / VerifyCacheDir / RemoveAgentFromDir / RemoveAllCaches.
#include "kv/cache_dir.h"

#include <xxhash.h>

#include <cstring>
#include <filesystem>
#include <set>

#include "base/atomic_file.h"
#include "kv/block_file.h"
#include "kv/block_key.h"

namespace semantic::kv {

namespace fs = std::filesystem;

namespace {

bool ParseHex(const std::string& s, uint64_t* out) {
  if (s.size() != 16 || s.find_first_not_of("0123456789abcdef") != std::string::npos) return false;
  *out = std::stoull(s, nullptr, 16);
  return true;
}

std::vector<fs::path> ModelDirs(const std::string& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  uint64_t fp;
  for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec) && ParseHex(it->path().filename().string(), &fp) &&
        fs::exists(it->path() / "blocks", ec)) {
      out.push_back(it->path());
    }
  }
  return out;
}

template <typename F>
void ForEachFile(const fs::path& dir, F&& f) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) f(it->path());
  }
}

std::vector<AgentSession> LoadSessions(const fs::path& dir, uint64_t fp,
                                       std::vector<std::string>* bad) {
  std::vector<AgentSession> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir / "agents", ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (IsTempFileName(it->path().filename().string())) continue;
    auto text = ReadWholeFile(it->path().string());
    auto s = text.ok() ? AgentSession::FromJson(std::string(text->begin(), text->end()), fp)
                       : Expected<AgentSession>(text.status());
    if (s.ok()) {
      out.push_back(std::move(*s));
    } else if (bad) {
      bad->push_back(it->path().string() + ": " + s.status().message());
    }
  }
  return out;
}

// A block file checked against its own header (the layout it declares) and directory.
Status VerifyBlock(const fs::path& path, uint64_t fp) {
  auto data = ReadWholeFile(path.string());
  if (!data.ok()) return data.status();
  if (data->size() < sizeof(BlockFileHeader)) return DataLoss("shorter than its header");
  BlockFileHeader h;
  std::memcpy(&h, data->data(), sizeof(h));
  BlockFileIdentity id;
  id.model_fingerprint = fp;
  id.layout = {static_cast<int>(h.n_layers), static_cast<int>(h.n_kv_heads),
               static_cast<int>(h.head_dim), static_cast<int>(h.block_tokens)};
  id.layout.v_from_k = h.version == kBlockFormatVersionKOnly;
  id.layout.dtype = static_cast<kernels::KvDtype>(h.kv_dtype);
  id.kv_dtype = h.kv_dtype;
  if (h.n_layers == 0 || h.n_layers > 4096 || h.block_tokens == 0 || h.block_tokens > 65536 ||
      h.n_kv_heads == 0 || h.n_kv_heads > 4096 || h.head_dim == 0 || h.head_dim > 4096 ||
      h.kv_dtype > static_cast<uint32_t>(kernels::KvDtype::kQ4_0) ||
      h.head_dim % kernels::KvBlockElems(id.layout.dtype) != 0) {
    return DataLoss("implausible layout in header");
  }
  if (h.version == kBlockFormatVersionSliding) {
    if (h.n_layers > static_cast<uint32_t>(KvLayout::kMaxLayers)) {
      return DataLoss("implausible layout in header");
    }
    // Which layers slide is the model's business; the file tells how many layers it carries
    // (all, or the global ones alone), and any layout with that many gives the same sizes.
    const uint64_t layer_bytes = uint64_t{2} * h.block_tokens * id.layout.row_bytes();
    const uint64_t token_bytes = uint64_t{h.block_tokens} * sizeof(int32_t);
    const uint64_t rows = h.payload_bytes >= token_bytes ? h.payload_bytes - token_bytes : 0;
    const uint64_t present = rows / layer_bytes;
    if (rows % layer_bytes != 0 || present == 0 || present > h.n_layers) {
      return DataLoss("payload size is not a whole number of layers");
    }
    id.layout.window = 1;
    const int n_sliding = present == h.n_layers ? 1 : static_cast<int>(h.n_layers - present);
    for (int l = 0; l < n_sliding; ++l) id.layout.set_sliding(l);
  }
  RETURN_IF_ERROR(CheckBlockHeader(id, h, data->size()));
  uint64_t key = 0;
  if (!ParseHex(path.stem().string(), &key) || key != h.key) {
    return DataLoss("file name and header key differ");
  }
  const uint8_t* payload = data->data() + sizeof(BlockFileHeader);
  if (XXH3_64bits(payload, h.payload_bytes) != h.payload_xxh3) {
    return DataLoss("payload checksum mismatch");
  }
  std::vector<int32_t> tokens(h.block_tokens);
  std::memcpy(tokens.data(), payload, tokens.size() * sizeof(int32_t));
  if (BlockKey(h.parent_key, tokens.data(), static_cast<int>(h.block_tokens)) != h.key) {
    return DataLoss("key does not match its parent and tokens");
  }
  return Status::Ok();
}

}  // namespace

std::vector<ModelCacheInfo> ScanCacheDir(const std::string& root) {
  std::vector<ModelCacheInfo> out;
  for (const fs::path& dir : ModelDirs(root)) {
    ModelCacheInfo m;
    m.fingerprint = dir.filename().string();
    m.dir = dir.string();
    uint64_t fp = 0;
    ParseHex(m.fingerprint, &fp);
    ForEachFile(dir / "blocks", [&](const fs::path& p) {
      std::error_code ec;
      if (IsTempFileName(p.filename().string())) {
        ++m.temp_files;
      } else {
        ++m.block_files;
        m.block_bytes += fs::file_size(p, ec);
      }
    });
    ForEachFile(dir / "quarantine", [&](const fs::path&) { ++m.quarantined_files; });
    m.sessions = LoadSessions(dir, fp, &m.bad_sessions);
    out.push_back(std::move(m));
  }
  return out;
}

VerifyResult VerifyCacheDir(const std::string& root, bool quarantine) {
  VerifyResult r;
  for (const fs::path& dir : ModelDirs(root)) {
    uint64_t fp = 0;
    ParseHex(dir.filename().string(), &fp);
    ForEachFile(dir / "blocks", [&](const fs::path& p) {
      std::error_code ec;
      if (IsTempFileName(p.filename().string())) {
        if (quarantine) fs::remove(p, ec);
        return;
      }
      Status st = VerifyBlock(p, fp);
      if (st.ok()) {
        ++r.ok;
        return;
      }
      ++r.bad;
      r.problems.push_back(p.string() + ": " + st.message());
      if (quarantine) {
        fs::create_directories(dir / "quarantine", ec);
        fs::rename(p, dir / "quarantine" / p.filename(), ec);
      }
    });
  }
  return r;
}

Expected<int> RemoveAgentFromDir(const std::string& root, const std::string& id) {
  RETURN_IF_ERROR(ValidateAgentId(id));
  int removed = 0;
  for (const fs::path& dir : ModelDirs(root)) {
    uint64_t fp = 0;
    ParseHex(dir.filename().string(), &fp);
    std::vector<AgentSession> sessions = LoadSessions(dir, fp, nullptr);
    const AgentSession* target = nullptr;
    std::set<uint64_t> others;
    for (const auto& s : sessions) {
      if (s.id == id) target = &s;
      else others.insert(s.keys.begin(), s.keys.end());
    }
    if (!target) continue;
    std::error_code ec;
    for (uint64_t key : target->keys) {
      if (others.count(key)) continue;
      const std::string hex = KeyHex(key);
      fs::remove(dir / "blocks" / hex.substr(0, 2) / (hex + ".kvb"), ec);
    }
    if (!fs::remove(dir / "agents" / (id + ".json"), ec) || ec) {
      return IoError("cannot remove session " + id + ": " + ec.message());
    }
    ++removed;
  }
  return removed;
}

Expected<int> RemoveAllCaches(const std::string& root) {
  int removed = 0;
  for (const fs::path& dir : ModelDirs(root)) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec) return IoError("cannot remove " + dir.string() + ": " + ec.message());
    ++removed;
  }
  return removed;
}

}  // namespace semantic::kv
