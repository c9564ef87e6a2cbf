// What a process's command line says about an inference server: which server it is, the model
// it serves, and where its Prometheus metrics are. Pure functions over /proc/<pid>/cmdline's
// bytes, so tests and the fuzzer (discovery_fuzz.cc) call them without a /proc.
//
// Recognised launch commands, as each project documents them (docs/discovery.md has the table):
//   vLLM    vllm serve MODEL | python -m vllm.entrypoints.openai.api_server --model MODEL
//   TGI     text-generation-launcher --model-id MODEL, and the text-generation-router it starts
//   Triton  tritonserver --model-repository DIR
//   SGLang  python -m sglang.launch_server --model-path MODEL | sglang serve --model-path MODEL
//   Ollama  ollama serve
// A Python script run through its interpreter (python3 /usr/local/bin/vllm serve ...) is
// recognised as the script. Options are read as argparse, clap and getopt_long accept them:
// "--name value" and "--name=value"; when an option is given twice the last one counts.
//
// Contract: any input is accepted without crashing; what is not one of these servers gives
// nullopt.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tyto::collect::discovery {

enum class ServerKind { kVllm, kTgi, kTriton, kSglang, kOllama };

inline constexpr std::array<ServerKind, 5> kAllServerKinds = {ServerKind::kVllm, ServerKind::kTgi, ServerKind::kTriton,
                                                              ServerKind::kSglang, ServerKind::kOllama};

// "vllm", "tgi", "triton", "sglang", "ollama": the config's `kind` and the default job name.
std::string_view KindName(ServerKind kind);
std::optional<ServerKind> KindFromName(std::string_view name);

// /proc/<pid>/cmdline: the arguments, each ended by a NUL byte (the last one's NUL may be
// missing). A process that rewrote its title (setproctitle) shows one string: one argument.
// Empty for a kernel thread or a zombie.
std::vector<std::string> SplitCmdline(std::string_view raw);

// The model name as a label value: a Hugging Face id ("meta-llama/Llama-3.1-8B-Instruct") or a
// plain name is kept as given; a path (starting with '/', '.' or '~', or with more than one '/')
// becomes its last component, except a Hugging Face cache snapshot
// (.../models--ORG--NAME/snapshots/HASH), which becomes "ORG/NAME".
std::string ModelLabel(std::string_view model);

// What argv says about one server process.
struct Launch {
  ServerKind kind = ServerKind::kVllm;
  // TGI's text-generation-launcher: it starts the text-generation-router, which is the process
  // that listens and serves the metrics.
  bool tgi_launcher = false;
  // The served model name, else the model (ModelLabel); empty when argv names neither (the
  // server's own default then applies, which depends on its version) and for Triton, whose
  // metrics carry a `model` label per model of the repository.
  std::string model;
  // The address the metrics listen on when argv gives one (--host, --hostname,
  // --metrics-address); empty otherwise.
  std::string host;
  // The port serving the metrics: from argv, else the project's default (vLLM 8000, TGI 3000,
  // Triton 8002, SGLang 30000, Ollama 11434).
  uint16_t port = 0;
  bool port_from_argv = false;
  // Why the process is not to be scraped even when it listens: "metrics_disabled" (SGLang
  // without --enable-metrics, Triton with --allow-metrics=false), "no_metrics_endpoint"
  // (Ollama serves no Prometheus metrics), "tls" (HTTPS with a certificate Tyto cannot know
  // to trust); empty when it is to be scraped.
  std::string not_scraped;
};

// nullopt when argv is not one of the recognised servers.
std::optional<Launch> ParseLaunch(const std::vector<std::string>& argv);

}  // namespace tyto::collect::discovery
