// Model arguments: .gguf files, checkpoint folders and Hugging Face ids resolved in the local
// cache (hf_checkpoint.h). Nothing is ever downloaded.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "loader/safetensors/hf_checkpoint.h"

namespace semantic::loader {
namespace {

namespace fs = std::filesystem;

std::string HubDir() {
  if (const char* h = std::getenv("HF_HUB_CACHE"); h && *h) return h;
  if (const char* h = std::getenv("HF_HOME"); h && *h) return (fs::path(h) / "hub").string();
  if (const char* h = std::getenv("HOME"); h && *h) {
    return (fs::path(h) / ".cache" / "huggingface" / "hub").string();
  }
  return "";
}

bool LooksLikeId(const std::string& s) {
  const size_t slash = s.find('/');
  return slash != std::string::npos && slash > 0 && slash + 1 < s.size() &&
         s.find('/', slash + 1) == std::string::npos && s.find("..") == std::string::npos &&
         s[0] != '.';
}

}  // namespace

Expected<std::string> ResolveModelPath(const std::string& path_or_id) {
  std::error_code ec;
  if (fs::is_regular_file(path_or_id, ec) || fs::is_directory(path_or_id, ec)) return path_or_id;
  if (!LooksLikeId(path_or_id)) return NotFound("no model file or folder " + path_or_id);
  const std::string hub = HubDir();
  const size_t slash = path_or_id.find('/');
  const fs::path repo = fs::path(hub) / ("models--" + path_or_id.substr(0, slash) + "--" +
                                         path_or_id.substr(slash + 1));
  const std::string not_found = "model '" + path_or_id + "' is neither a path nor in the local " +
                                "Hugging Face cache (looked in " + repo.string() +
                                "; nothing is downloaded)";
  if (hub.empty() || !fs::is_directory(repo / "snapshots", ec)) return NotFound(not_found);
  std::ifstream ref(repo / "refs" / "main");
  std::string rev;
  if (ref && std::getline(ref, rev) && !rev.empty() && rev.find('/') == std::string::npos &&
      fs::is_directory(repo / "snapshots" / rev, ec)) {
    return (repo / "snapshots" / rev).string();
  }
  std::vector<fs::path> snaps;
  for (fs::directory_iterator it(repo / "snapshots", ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory()) snaps.push_back(it->path());
  }
  if (snaps.size() != 1) {
    return NotFound(not_found + ": " + std::to_string(snaps.size()) +
                    " snapshots and no refs/main naming one");
  }
  return snaps[0].string();
}

Expected<std::unique_ptr<GgufFile>> OpenModelFile(const std::string& path_or_id) {
  std::error_code ec;
  const bool gguf_name = fs::path(path_or_id).extension() == ".gguf";
  auto resolved = ResolveModelPath(path_or_id);
  // A missing .gguf path (or one that is no HF id) keeps the GGUF reader's own error.
  if (!resolved.ok() && (gguf_name || !LooksLikeId(path_or_id))) {
    return GgufFile::Open(path_or_id);
  }
  ASSIGN_OR_RETURN(std::string path, std::move(resolved));
  if (fs::is_directory(path, ec)) return OpenHfCheckpoint(path);
  return GgufFile::Open(path);
}

}  // namespace semantic::loader
