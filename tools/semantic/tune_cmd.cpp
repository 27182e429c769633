// `semantic tune MODEL`: sweeps threads, KV block size, prefill chunk and batch size on this
// machine, one dimension at a time around the model's configured values (a coordinate sweep,
// not the cartesian product), measuring each point through the real executor
// (tune_measure.h), and writes the chosen values with a record of every figure into the
// model's profile (tune_profile.h).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "base/thread_pool.h"
#include "base/timer.h"
#include "config/load.h"
#include "config/model_profiles.h"
#include "config/option.h"
#include "engine/model_fingerprint.h"
#include "kv/block_key.h"
#include "server/runtime/model_registry.h"
#include "tools/semantic/commands.h"
#include "tools/semantic/tune_measure.h"
#include "tools/semantic/tune_profile.h"

namespace semantic::cli {
namespace {

namespace fs = std::filesystem;

struct TuneArgs {
  std::string model;
  std::string out;
  std::vector<std::string> config_files;
  std::string threads, block_tokens, prefill_chunk, max_batch;  // comma-separated lists
  std::string prompt_tokens, gen_tokens, reps, time_budget;     // numbers, checked here
  std::set<std::string> given;  // the options above that were given (possibly empty)
  bool quick = false;
};

// One swept setting: its [model] key, the member of TunePoint, the figure it is judged by.
struct Dimension {
  const char* key;
  int TunePoint::*member;
  const char* judged_by;  // "all" (geometric mean of the three figures), "prefill" or "batch"
  std::vector<int> values;
  bool swept = false;  // every value measured (false: the time budget ran out first)
};

struct Measured {
  TunePoint point;
  std::string dimension;
  TuneFigures figures;
  std::string error;  // non-empty: this point failed
};

Status ParseNumber(const std::string& flag, const std::string& text, int lo, int hi, int* out) {
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < lo || v > hi) {
    return InvalidArgument(flag + ": '" + text + "' is not a whole number in [" +
                           std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  *out = static_cast<int>(v);
  return Status::Ok();
}

// "1,2,4" → values within the option's declared range (config/options.cpp).
Status ParseList(const std::string& flag, const char* key, const std::string& text,
                 std::vector<int>* out) {
  const config::OptionDecl& d = config::Options()[config::FindOption("model", key)];
  const int lo = std::max(1, static_cast<int>(d.min));  // threads: 0 means "all cores"; a
  const int hi = static_cast<int>(d.max);               // sweep names counts
  std::stringstream ss(text);
  out->clear();
  for (std::string item; std::getline(ss, item, ',');) {
    int v = 0;
    if (Status st = ParseNumber(flag, item, lo, hi, &v); !st.ok()) {
      return InvalidArgument(st.message() + " (a comma-separated list of model." + key +
                             " values)");
    }
    out->push_back(v);
  }
  if (out->empty()) return InvalidArgument(flag + ": empty list");
  return Status::Ok();
}

// The values swept for a dimension: the list given, else the defaults; always with the
// configured value, sorted, without repeats.
std::vector<int> Values(std::vector<int> v, int configured) {
  v.push_back(configured);
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::vector<int> DefaultThreads(int cores, bool quick) {
  std::vector<int> v;
  if (quick) return {std::max(1, cores / 2), cores};
  for (int t = 1; t < cores; t *= 2) v.push_back(t);
  v.push_back(cores);
  return v;
}

double Score(const Dimension& d, const TuneFigures& f) {
  if (std::string(d.judged_by) == "prefill") return f.prefill_tps;
  if (std::string(d.judged_by) == "batch") return f.batch_tps;
  return std::cbrt(f.prefill_tps * f.decode_tps * f.batch_tps);
}

// Among the values within 5% of the best score (measurement noise on a shared machine): the
// configured value if it is one of them, else the smallest (fewer cores, finer cache blocks,
// shorter steps, less KV memory).
int Choose(const Dimension& d, const std::vector<Measured>& rows, int configured) {
  double best = 0;
  for (const Measured& m : rows) {
    if (m.dimension == d.key && m.error.empty()) best = std::max(best, Score(d, m.figures));
  }
  int chosen = -1;
  for (const Measured& m : rows) {
    if (m.dimension != d.key || !m.error.empty() || Score(d, m.figures) < 0.95 * best) continue;
    const int v = m.point.*d.member;
    if (v == configured) return v;
    if (chosen < 0 || v < chosen) chosen = v;
  }
  return chosen < 0 ? configured : chosen;
}

std::string PointText(const TunePoint& p) {
  char buf[128];
  std::snprintf(buf, sizeof(buf), "threads=%d block_tokens=%d prefill_chunk=%d max_batch=%d",
                p.threads, p.block_tokens, p.prefill_chunk, p.max_batch);
  return buf;
}

std::string FiguresText(const TuneFigures& f) {
  char buf[160];
  std::snprintf(buf, sizeof(buf), "prefill_tps=%.1f decode_tps=%.1f batch_tps=%.1f batch=%d",
                f.prefill_tps, f.decode_tps, f.batch_tps, f.batch);
  return buf;
}

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Canonical(const std::string& path) {
  std::error_code ec;
  const fs::path c = fs::weakly_canonical(path, ec);
  return ec ? path : c.string();
}

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "semantic tune: %s\n", message.c_str());
  return code;
}

// Where the profile goes: --out, else the registry profile of these weights, else
// <registry.profiles_dir>/<id>.toml. An existing file must be a profile of the same weights.
Expected<std::string> OutputFile(const TuneArgs& a, const config::Settings& base,
                                 const config::Settings& resolved) {
  std::string out = a.out;
  if (out.empty()) {
    for (const server::ModelEntry& e : server::ListModels(base)) {
      if (e.source == "profile" && e.problem.empty() &&
          Canonical(e.path) == Canonical(resolved.model.path)) {
        out = e.profile;
        break;
      }
    }
  }
  if (out.empty()) {
    out = (fs::path(base.registry.profiles_dir) / (resolved.model.served_name + ".toml")).string();
  }
  std::error_code ec;
  if (!fs::exists(out, ec)) return out;
  config::Settings probe = config::Defaults();
  if (Status st = config::ApplyProfile(out, "", &probe); !st.ok()) {
    return InvalidArgument(out + " exists and is not a model profile: " + st.message());
  }
  if (Canonical(probe.model.path) != Canonical(resolved.model.path)) {
    return InvalidArgument(out + " is the profile of " + probe.model.path + ", not of " +
                           resolved.model.path + "; give another --out");
  }
  return out;
}

// What to measure: token counts, time budget and the values of each dimension.
struct Plan {
  TuneWorkload w;
  int time_budget = 600;  // seconds; 0: none
  std::vector<int> threads, blocks, chunks, batches;
};

Status MakePlan(const TuneArgs& a, Plan* p) {
  if (a.model.empty()) {
    return InvalidArgument(
        "MODEL is required (a model id from `semantic models`, a .gguf file or a checkpoint "
        "folder)");
  }
  TuneWorkload& w = p->w;
  if (a.quick) w = {32, 8, 16, 1};
  auto given = [&](const char* flag) { return a.given.count(flag) > 0; };
  if (given("--prompt-tokens")) {
    RETURN_IF_ERROR(ParseNumber("--prompt-tokens", a.prompt_tokens, 1, 1 << 20, &w.prompt_tokens));
  }
  if (given("--gen-tokens")) {
    RETURN_IF_ERROR(ParseNumber("--gen-tokens", a.gen_tokens, 2, 1 << 20, &w.gen_tokens));
  }
  if (given("--reps")) RETURN_IF_ERROR(ParseNumber("--reps", a.reps, 1, 100, &w.reps));
  if (given("--time-budget")) {
    RETURN_IF_ERROR(ParseNumber("--time-budget", a.time_budget, 0, 1 << 30, &p->time_budget));
  }
  w.stream_prompt = std::min(w.stream_prompt, w.prompt_tokens);
  p->threads = DefaultThreads(ThreadPool::DefaultThreads(), a.quick);
  p->blocks = a.quick ? std::vector<int>{32} : std::vector<int>{8, 16, 32, 64};
  p->chunks = a.quick ? std::vector<int>{16} : std::vector<int>{128, 256, 512, 1024};
  p->batches = a.quick ? std::vector<int>{2} : std::vector<int>{1, 2, 4, 8, 16};
  if (given("--threads"))
    RETURN_IF_ERROR(ParseList("--threads", "threads", a.threads, &p->threads));
  if (given("--block-tokens")) {
    RETURN_IF_ERROR(ParseList("--block-tokens", "block_tokens", a.block_tokens, &p->blocks));
  }
  if (given("--prefill-chunk")) {
    RETURN_IF_ERROR(ParseList("--prefill-chunk", "prefill_chunk", a.prefill_chunk, &p->chunks));
  } else {  // a chunk beyond the prompt measures the same single step
    std::erase_if(p->chunks, [&](int c) { return c > w.prompt_tokens; });
  }
  if (given("--max-batch")) {
    RETURN_IF_ERROR(ParseList("--max-batch", "max_batch", a.max_batch, &p->batches));
  }
  return Status::Ok();
}

struct SweepResult {
  std::vector<Measured> rows;  // in measurement order, repeats of a point included
  TunePoint chosen;
  bool out_of_time = false;
  std::string fingerprint, arch;  // of the model file
};

// Measures dims in order around `configured`, printing a line per new point. A failure at the
// first point (the file does not load) or a workload beyond the model's context is an error;
// a later point that fails is recorded as failed and never chosen.
Expected<SweepResult> Sweep(const config::ModelSettings& mc, const TunePoint& configured,
                            std::vector<Dimension>& dims, const Plan& plan) {
  kernels::KvDtype kv_dtype = kernels::KvDtype::kF16;
  for (auto t : {kernels::KvDtype::kF16, kernels::KvDtype::kQ8_0, kernels::KvDtype::kQ4_0}) {
    if (std::string(kernels::KvDtypeName(t)) == config::Name(mc.kv_dtype)) kv_dtype = t;
  }
  const int most_streams = *std::max_element(dims[3].values.begin(), dims[3].values.end());
  SweepResult r;
  r.chosen = configured;
  Timer clock;
  std::unique_ptr<TuneModel> model;
  std::map<TunePoint, size_t> seen;  // point → index into r.rows
  for (Dimension& d : dims) {
    d.swept = true;
    for (int v : d.values) {
      TunePoint p = r.chosen;
      p.*d.member = v;
      Measured m{p, d.key, {}, ""};
      if (auto it = seen.find(p); it != seen.end()) {
        m.figures = r.rows[it->second].figures;
        m.error = r.rows[it->second].error;
        r.rows.push_back(m);
        continue;
      }
      if (plan.time_budget > 0 && clock.Seconds() > plan.time_budget) {
        r.out_of_time = true;
        d.swept = false;
        break;
      }
      Timer t;
      if (!model || !model->Serves(p)) {
        model.reset();  // one copy of the model in memory at a time
        auto opened = TuneModel::Open(mc.path, kv_dtype, p, most_streams, plan.w);
        if (!opened.ok() && (seen.empty() || opened.status().code() == StatusCode::kOutOfRange)) {
          return opened.status();
        }
        if (opened.ok()) {
          model = std::move(*opened);
          r.fingerprint = kv::KeyHex(engine::ModelFingerprint(model->generator().gguf()));
          r.arch = model->generator().model().config().arch;
        } else {
          m.error = opened.status().message();
        }
      }
      if (m.error.empty()) {
        auto f = model->Measure(p, plan.w);
        if (!f.ok() && seen.empty()) return f.status();
        if (f.ok())
          m.figures = *f;
        else
          m.error = f.status().message();
      }
      std::printf("[%2zu] %-13s %s: %s (%.1f s)\n", seen.size() + 1, d.key, PointText(p).c_str(),
                  m.error.empty() ? FiguresText(m.figures).c_str() : ("failed: " + m.error).c_str(),
                  t.Seconds());
      std::fflush(stdout);
      seen[p] = r.rows.size();
      r.rows.push_back(m);
    }
    r.chosen.*d.member = Choose(d, r.rows, configured.*d.member);
    if (r.out_of_time) break;
  }
  return r;
}

void PrintTable(const std::vector<Dimension>& dims, const SweepResult& r,
                const TunePoint& configured) {
  std::printf("\n%-14s %6s  %12s %12s %12s  %s\n", "dimension", "value", "prefill t/s",
              "decode t/s", "batch t/s", "streams");
  for (const Measured& m : r.rows) {
    const Dimension& d = *std::find_if(dims.begin(), dims.end(),
                                       [&](const Dimension& x) { return m.dimension == x.key; });
    const int v = m.point.*d.member;
    const char* mark = v == r.chosen.*d.member ? " *" : "";
    if (!m.error.empty()) {
      std::printf("%-14s %6d  failed: %s%s\n", d.key, v, m.error.c_str(), mark);
      continue;
    }
    std::printf("%-14s %6d  %12.1f %12.1f %12.1f  %d%s\n", d.key, v, m.figures.prefill_tps,
                m.figures.decode_tps, m.figures.batch_tps, m.figures.batch, mark);
  }
  std::printf("* chosen: %s (configured: %s)%s\n", PointText(r.chosen).c_str(),
              PointText(configured).c_str(),
              r.out_of_time ? "; the time budget ran out before every value was measured" : "");
}

// The comment block of the profile (tune_profile.h).
std::string Record(const config::ModelSettings& mc, const Plan& plan, bool quick,
                   const MachineInfo& machine, const std::vector<Dimension>& dims,
                   const SweepResult& sweep, const TunePoint& configured) {
  const TuneWorkload& w = plan.w;
  std::string r = std::string(kTuneRecordBegin) +
                  " (comments; the next `semantic tune` run replaces this block)\n";
  r += "# date: " + UtcNow() + "\n";
  r += "# machine: " + machine.cpu + "; " + std::to_string(machine.cores) + " usable cores, " +
       std::to_string(machine.logical) + " logical CPUs; kernels " + machine.kernels +
       "; load average at the start " + machine.load_average + "\n";
  r += "# model: " + mc.path + " (" + sweep.arch + ", fingerprint " + sweep.fingerprint +
       "); kv_dtype " + config::Name(mc.kv_dtype) + "\n";
  r += "# workload: prompt_tokens=" + std::to_string(w.prompt_tokens) +
       " gen_tokens=" + std::to_string(w.gen_tokens) +
       " stream_prompt=" + std::to_string(w.stream_prompt) + " reps=" + std::to_string(w.reps) +
       (quick ? " (--quick)" : "") + "\n";
  r += "# configured: " + PointText(configured) + "\n";
  r += "# chosen: " + PointText(sweep.chosen) + "\n";
  r += "# rule: per dimension, the values within 5% of the best score (threads, block_tokens: "
       "geometric mean of the three figures; prefill_chunk: prefill_tps; max_batch: "
       "batch_tps), the configured one if among them, else the smallest\n";
  for (const Dimension& d : dims) {
    if (!d.swept) r += "# not swept (time budget): " + std::string(d.key) + "\n";
  }
  for (const Measured& m : sweep.rows) {
    r += "# measured: dimension=" + m.dimension + " " + PointText(m.point) + " " +
         (m.error.empty() ? FiguresText(m.figures) : "failed: " + m.error) + "\n";
  }
  return r + kTuneRecordEnd + "\n";
}

int Run(const TuneArgs& a) {
  Plan plan;
  if (Status st = MakePlan(a, &plan); !st.ok()) return Fail(2, st.message());
  config::LoadInputs in;
  in.env = config::ProcessEnv();
  in.files = a.config_files.empty() ? config::ConfigFilesFromEnv(in.env) : a.config_files;
  auto loaded = config::Load(in);
  if (!loaded.ok()) return Fail(2, "configuration error:\n" + loaded.status().message());
  auto resolved = server::ResolveModel(loaded->settings, a.model);
  if (!resolved.ok()) return Fail(2, resolved.status().message());
  auto out_file = OutputFile(a, loaded->settings, *resolved);
  if (!out_file.ok()) return Fail(2, out_file.status().message());

  const config::ModelSettings& mc = resolved->model;
  const TunePoint configured{mc.threads > 0 ? mc.threads : ThreadPool::DefaultThreads(),
                             mc.block_tokens, mc.prefill_chunk, mc.max_batch};
  std::vector<Dimension> dims = {
      {"threads", &TunePoint::threads, "all", Values(plan.threads, configured.threads)},
      {"block_tokens", &TunePoint::block_tokens, "all",
       Values(plan.blocks, configured.block_tokens)},
      {"prefill_chunk", &TunePoint::prefill_chunk, "prefill",
       Values(plan.chunks, configured.prefill_chunk)},
      {"max_batch", &TunePoint::max_batch, "batch", Values(plan.batches, configured.max_batch)},
  };
  const MachineInfo machine = DescribeMachine();
  std::printf("tuning %s (%s) on %s, %d usable cores, load average %s; kv_dtype %s\n",
              mc.served_name.c_str(), mc.path.c_str(), machine.cpu.c_str(), machine.cores,
              machine.load_average.c_str(), config::Name(mc.kv_dtype));
  std::printf(
      "workload: %d-token prompt (prefill); %d tokens after a %d-token prompt per stream "
      "(decode, batch); best of %d\n",
      plan.w.prompt_tokens, plan.w.gen_tokens, plan.w.stream_prompt, plan.w.reps);
  std::fflush(stdout);
  auto sweep = Sweep(mc, configured, dims, plan);
  if (!sweep.ok()) {
    return Fail(sweep.status().code() == StatusCode::kOutOfRange ? 2 : 1, sweep.status().message());
  }
  PrintTable(dims, *sweep, configured);

  TunedProfile prof;
  prof.model_path = mc.path;
  prof.served_name = mc.served_name;
  for (const Dimension& d : dims) prof.keys.push_back({d.key, sweep->chosen.*d.member});
  prof.record = Record(mc, plan, a.quick, machine, dims, *sweep, configured);
  std::string existing;
  if (std::ifstream f(*out_file, std::ios::binary); f) {
    existing.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  if (Status ws = WriteProfile(*out_file, UpdateProfileText(existing, prof)); !ws.ok()) {
    return Fail(1, ws.message());
  }
  std::printf("wrote %s (%s)\n", out_file->c_str(), existing.empty() ? "new profile" : "updated");
  return 0;
}

}  // namespace

void RegisterTune(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<TuneArgs>();
  CLI::App* cmd = app.add_subcommand(
      "tune",
      "Measure threads, KV block size, prefill chunk and batch size on this machine for a "
      "model (one setting at a time around its configured values, through the real "
      "scheduler/executor) and write the best values, with every figure, into its profile");
  cmd->add_option("model", a->model,
                  "Model id (`semantic models`), .gguf file, checkpoint folder or cached HF id");
  cmd->add_option("-o,--out", a->out,
                  "Profile to write. Default: the registry profile of this model's file, else "
                  "<registry.profiles_dir>/<id>.toml. An existing profile keeps its other keys "
                  "and comments; only the tuned keys and the measurement record change")
      ->type_name("FILE");
  cmd->add_option("--threads", a->threads,
                  "Thread counts to try, e.g. 1,2,4 (default: 1, 2, "
                  "4 … up to the usable cores)")
      ->type_name("LIST");
  cmd->add_option("--block-tokens", a->block_tokens, "KV block sizes to try (default 8,16,32,64)")
      ->type_name("LIST");
  cmd->add_option("--prefill-chunk", a->prefill_chunk,
                  "Prefill chunks (tokens per step) to try (default those of 128,256,512,1024 "
                  "up to --prompt-tokens)")
      ->type_name("LIST");
  cmd->add_option("--max-batch", a->max_batch,
                  "Batch sizes (concurrent streams) to try (default 1,2,4,8,16)")
      ->type_name("LIST");
  cmd->add_flag("--quick", a->quick,
                "Few values and tiny token counts (32-token prompt, 8 tokens, one repetition): "
                "a smoke run well under a minute, not a measurement to rely on");
  cmd->add_option("--prompt-tokens", a->prompt_tokens,
                  "Prompt of the prefill test (default 512; --quick 32)")
      ->type_name("N");
  cmd->add_option("--gen-tokens", a->gen_tokens,
                  "Tokens each decoding stream generates (default 64; --quick 8; at least 2)")
      ->type_name("N");
  cmd->add_option("--reps", a->reps,
                  "Repetitions per point; the best counts (default 2; "
                  "--quick 1)")
      ->type_name("N");
  cmd->add_option("--time-budget", a->time_budget,
                  "Seconds after which no new point is measured; the settings not reached keep "
                  "their configured values (default 600; 0: no limit)")
      ->type_name("SECONDS");
  cmd->add_option("--config", a->config_files,
                  "Server configuration (registry folders, the model's defaults); default: "
                  "$SEMANTIC_CONFIG, else none")
      ->type_name("FILE");
  cmd->callback([a, cmd, &exit_code] {
    for (const char* name : {"--threads", "--block-tokens", "--prefill-chunk", "--max-batch",
                             "--prompt-tokens", "--gen-tokens", "--reps", "--time-budget"}) {
      if (cmd->count(name) > 0) a->given.insert(name);
    }
    exit_code = Run(*a);
  });
}

}  // namespace semantic::cli
