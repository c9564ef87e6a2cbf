#include "collect/discovery/launch.h"

#include <gtest/gtest.h>

namespace tyto::collect::discovery {
namespace {

using Argv = std::vector<std::string>;

Launch MustParse(const Argv& argv) {
  std::optional<Launch> l = ParseLaunch(argv);
  if (!l) {
    ADD_FAILURE() << "not recognised: " << ::testing::PrintToString(argv);
    return {};
  }
  return *l;
}

TEST(SplitCmdlineTest, NulSeparatedWithOrWithoutTheLastNul) {
  EXPECT_EQ(SplitCmdline(std::string_view("vllm\0serve\0m\0", 13)), (Argv{"vllm", "serve", "m"}));
  EXPECT_EQ(SplitCmdline(std::string_view("vllm\0serve", 10)), (Argv{"vllm", "serve"}));
  // An empty argument in the middle stays (argv may hold "").
  EXPECT_EQ(SplitCmdline(std::string_view("a\0\0b\0", 5)), (Argv{"a", "", "b"}));
  EXPECT_TRUE(SplitCmdline("").empty());  // a kernel thread
  // A process title written over argv is one argument.
  EXPECT_EQ(SplitCmdline("VLLM::EngineCore"), (Argv{"VLLM::EngineCore"}));
}

TEST(ModelLabelTest, HubIdsStayPathsBecomeTheirLastComponent) {
  EXPECT_EQ(ModelLabel("meta-llama/Llama-3.1-8B-Instruct"), "meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(ModelLabel("gpt2"), "gpt2");
  EXPECT_EQ(ModelLabel("/models/llama-3-8b"), "llama-3-8b");
  EXPECT_EQ(ModelLabel("/models/llama-3-8b/"), "llama-3-8b");
  EXPECT_EQ(ModelLabel("./llama"), "llama");
  EXPECT_EQ(ModelLabel("~/weights/qwen2"), "qwen2");
  EXPECT_EQ(ModelLabel("data/models/mistral-7b"), "mistral-7b");  // two slashes: a path
  EXPECT_EQ(ModelLabel("/root/.cache/huggingface/hub/models--meta-llama--Llama-3.1-8B/snapshots/0e9e39f249a1"),
            "meta-llama/Llama-3.1-8B");
  EXPECT_EQ(ModelLabel("/cache/models--gpt2/snapshots/abc"), "gpt2");
  EXPECT_EQ(ModelLabel(""), "");
  EXPECT_EQ(ModelLabel("/"), "");
  EXPECT_EQ(ModelLabel("."), "");
}

TEST(ParseLaunchTest, VllmServe) {
  Launch l = MustParse({"/usr/local/bin/vllm", "serve", "meta-llama/Llama-3.1-8B-Instruct", "--port", "8100",
                        "--tensor-parallel-size", "2"});
  EXPECT_EQ(l.kind, ServerKind::kVllm);
  EXPECT_EQ(l.model, "meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(l.port, 8100);
  EXPECT_TRUE(l.port_from_argv);
  EXPECT_EQ(l.not_scraped, "");

  // Defaults; the served name wins over the model; '=' forms; underscores as vLLM accepts them.
  l = MustParse({"vllm", "serve", "/models/llama", "--served_model_name=chat", "extra-name", "--host=10.0.0.5"});
  EXPECT_EQ(l.model, "chat");
  EXPECT_EQ(l.port, 8000);
  EXPECT_FALSE(l.port_from_argv);
  EXPECT_EQ(l.host, "10.0.0.5");

  // Through the interpreter, as a shebang runs it.
  l = MustParse({"/usr/bin/python3", "/usr/local/bin/vllm", "serve", "Qwen/Qwen2.5-7B", "--port=9000"});
  EXPECT_EQ(l.model, "Qwen/Qwen2.5-7B");
  EXPECT_EQ(l.port, 9000);

  // The model as an option after `serve`, and TLS.
  l = MustParse({"vllm", "serve", "--model", "/m/mistral", "--ssl-certfile", "/c.pem", "--ssl-keyfile", "/k.pem"});
  EXPECT_EQ(l.model, "mistral");
  EXPECT_EQ(l.not_scraped, "tls");
}

TEST(ParseLaunchTest, VllmOpenAiApiServerModule) {
  Launch l = MustParse({"python3", "-u", "-m", "vllm.entrypoints.openai.api_server", "--model",
                        "/data/models/Meta-Llama-3-70B", "--port", "8001", "--served-model-name", "llama-70b"});
  EXPECT_EQ(l.kind, ServerKind::kVllm);
  EXPECT_EQ(l.model, "llama-70b");
  EXPECT_EQ(l.port, 8001);

  l = MustParse({"python", "-mvllm.entrypoints.openai.api_server", "--model", "facebook/opt-125m"});
  EXPECT_EQ(l.model, "facebook/opt-125m");
  EXPECT_EQ(l.port, 8000);

  // The last --port given counts, as argparse reads it; a bad port keeps the default.
  l = MustParse({"python3", "-m", "vllm.entrypoints.openai.api_server", "--port", "1", "--port", "8005"});
  EXPECT_EQ(l.port, 8005);
  l = MustParse({"python3", "-m", "vllm.entrypoints.openai.api_server", "--port", "99999"});
  EXPECT_EQ(l.port, 8000);
  EXPECT_FALSE(l.port_from_argv);
  // An option with no value (the next argument is an option) is ignored.
  l = MustParse({"python3", "-m", "vllm.entrypoints.openai.api_server", "--served-model-name", "--port", "8006"});
  EXPECT_EQ(l.model, "");
  EXPECT_EQ(l.port, 8006);
  EXPECT_EQ(MustParse({"python3", "-m", "vllm.entrypoints.cli.main", "serve", "m"}).model, "m");
}

TEST(ParseLaunchTest, Tgi) {
  Launch l = MustParse({"text-generation-launcher", "--model-id", "HuggingFaceH4/zephyr-7b-beta", "-p", "8080"});
  EXPECT_EQ(l.kind, ServerKind::kTgi);
  EXPECT_TRUE(l.tgi_launcher);
  EXPECT_EQ(l.model, "HuggingFaceH4/zephyr-7b-beta");
  EXPECT_EQ(l.port, 8080);

  l = MustParse({"/usr/local/bin/text-generation-launcher", "--model-id=/data/falcon-7b", "--port=80"});
  EXPECT_EQ(l.model, "falcon-7b");
  EXPECT_EQ(l.port, 80);
  EXPECT_EQ(MustParse({"text-generation-launcher", "-p8081"}).port, 8081);
  l = MustParse({"text-generation-launcher"});
  EXPECT_EQ(l.port, 3000);
  EXPECT_EQ(l.model, "");  // TGI's default model depends on its version: not guessed

  // The router the launcher starts: the process that listens.
  l = MustParse({"text-generation-router", "--max-concurrent-requests", "128", "--tokenizer-name",
                 "HuggingFaceH4/zephyr-7b-beta", "--port", "80", "--hostname", "0.0.0.0"});
  EXPECT_FALSE(l.tgi_launcher);
  EXPECT_EQ(l.model, "HuggingFaceH4/zephyr-7b-beta");
  EXPECT_EQ(l.port, 80);
  EXPECT_EQ(l.host, "0.0.0.0");
  EXPECT_EQ(MustParse({"text-generation-router", "--served-model-name", "zephyr", "--tokenizer-name", "x/y"}).model,
            "zephyr");
}

TEST(ParseLaunchTest, Triton) {
  Launch l = MustParse({"/opt/tritonserver/bin/tritonserver", "--model-repository=/models"});
  EXPECT_EQ(l.kind, ServerKind::kTriton);
  EXPECT_EQ(l.port, 8002);
  EXPECT_EQ(l.model, "");  // Triton labels its series per model itself
  EXPECT_EQ(l.not_scraped, "");

  l = MustParse({"tritonserver", "--model-repository", "/models", "--metrics-port", "9102", "--metrics-address",
                 "10.1.2.3"});
  EXPECT_EQ(l.port, 9102);
  EXPECT_EQ(l.host, "10.1.2.3");
  EXPECT_EQ(MustParse({"tritonserver", "--allow-metrics=false"}).not_scraped, "metrics_disabled");
  EXPECT_EQ(MustParse({"tritonserver", "--allow-metrics", "OFF"}).not_scraped, "metrics_disabled");
  EXPECT_EQ(MustParse({"tritonserver", "--allow-metrics=true"}).not_scraped, "");
}

TEST(ParseLaunchTest, Sglang) {
  Launch l = MustParse({"python3", "-m", "sglang.launch_server", "--model-path", "meta-llama/Llama-3.1-8B-Instruct",
                        "--host", "0.0.0.0", "--port", "30001", "--enable-metrics"});
  EXPECT_EQ(l.kind, ServerKind::kSglang);
  EXPECT_EQ(l.model, "meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(l.port, 30001);
  EXPECT_EQ(l.not_scraped, "");

  // Without --enable-metrics SGLang serves no /metrics.
  l = MustParse({"python3", "-m", "sglang.launch_server", "--model", "/w/qwen", "--served-model-name", "qwen"});
  EXPECT_EQ(l.model, "qwen");
  EXPECT_EQ(l.port, 30000);
  EXPECT_EQ(l.not_scraped, "metrics_disabled");

  l = MustParse({"/usr/bin/sglang", "serve", "--model-path", "/w/deepseek-v3", "--enable-metrics"});
  EXPECT_EQ(l.model, "deepseek-v3");
  EXPECT_EQ(l.not_scraped, "");
}

TEST(ParseLaunchTest, Ollama) {
  Launch l = MustParse({"/usr/local/bin/ollama", "serve"});
  EXPECT_EQ(l.kind, ServerKind::kOllama);
  EXPECT_EQ(l.port, 11434);
  EXPECT_EQ(l.not_scraped, "no_metrics_endpoint");
}

TEST(ParseLaunchTest, OtherProgramsAreNotServers) {
  for (const Argv& argv : std::vector<Argv>{
           {},
           {""},
           {"vllm"},                                  // no subcommand
           {"vllm", "bench", "serve"},                // another subcommand
           {"ollama", "run", "llama3"},               // a client
           {"ollama", "runner", "--model", "/blob"},  // Ollama's per-model runner
           {"python3"},
           {"python3", "-m"},
           {"python3", "-c", "from multiprocessing.spawn import spawn_main; spawn_main()"},
           {"python3", "train.py", "--model", "x"},
           {"python3", "-m", "vllm.entrypoints.api_server"},  // the demo server: no /metrics
           {"VLLM::EngineCore"},
           {"vllm serve m --port 8000"},  // a title with spaces: one argument
           {"bash", "-c", "vllm serve m"},
           {"text-generation-server", "serve", "/m"},  // TGI's Python shard
           {"pythonista", "-m", "vllm.entrypoints.openai.api_server"},
       }) {
    EXPECT_FALSE(ParseLaunch(argv).has_value()) << ::testing::PrintToString(argv);
  }
}

TEST(ServerKindTest, NamesRoundTrip) {
  for (ServerKind k : kAllServerKinds) EXPECT_EQ(KindFromName(KindName(k)), k);
  EXPECT_FALSE(KindFromName("VLLM").has_value());
  EXPECT_FALSE(KindFromName("").has_value());
}

}  // namespace
}  // namespace tyto::collect::discovery
