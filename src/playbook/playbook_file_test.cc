#include "playbook/playbook_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "playbook/expand.h"
#include "testing/temp_dir.h"

namespace tyto::playbook {
namespace {

constexpr const char* kGood = R"(playbooks:
  - name: gpu-overheat
    description: Drain a hot GPU node
    match: ['alertname="GPUOverheat"', 'severity=~"critical|page"']
    dry_run: true
    approval: required
    approval_timeout: 30m
    cooldown: 15m
    max_runs_per_hour: 2
    on_failure: stop
    steps:
      - name: drain
        command:
          argv: ["/usr/bin/kubectl", "drain", "${labels.node}"]
          timeout: 2m
          env: {KUBECONFIG: /etc/kube/config}
      - command: ["/bin/echo", "${labels.instance}"]
      - http:
          method: post
          url: "http://127.0.0.1:9/hook/${labels.model}"
          headers: {Authorization: "Bearer x"}
          body: '{"alert": "${labels.alertname}"}'
      - scale:
          api_server: https://kubernetes.default.svc
          namespace: serving
          deployment: "${labels.deployment}"
          replicas: "+2"
          max_replicas: 10
          token_file: /var/run/secrets/kubernetes.io/serviceaccount/token
      - scale: {deployment: vllm, replicas: 3, hook: "http://127.0.0.1:9/scale"}
      - rollback: {model: "${labels.model}", webhook: "http://127.0.0.1:9/rollback/${model}/${previous}"}
      - rollback: {model: m, command: ["/usr/local/bin/deploy", "${model}", "${previous}"]}
      - reroute: {webhook: "http://127.0.0.1:9/route", from: a, to: b, weight: 30}
      - retrain: {webhook: {url: "http://127.0.0.1:9/train", headers: {X-Token: t}}, model: m, reason: drift}
      - wait: 2m
      - verify: {query: 'up{instance="${labels.instance}"} == 1', within: 10m, interval: 1m}
      - verify: 'vector(1)'
      - escalate: {reason: "still hot", severity: page}
      - escalate:
)";

TEST(PlaybookFileTest, ParsesEveryStepKind) {
  auto r = ParsePlaybookFile(kGood, "p.yml");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 1u);
  const Playbook& p = *(*r)[0];
  EXPECT_EQ(p.name, "gpu-overheat");
  EXPECT_EQ(p.match.size(), 2u);
  EXPECT_TRUE(p.dry_run);
  EXPECT_TRUE(p.approval_required);
  EXPECT_EQ(p.approval_timeout, std::chrono::minutes(30));
  EXPECT_EQ(p.cooldown, std::chrono::minutes(15));
  EXPECT_EQ(p.max_runs_per_hour, 2);
  EXPECT_EQ(p.on_failure, OnFailure::kStop);
  ASSERT_EQ(p.steps.size(), 14u);
  EXPECT_EQ(p.steps[0].name, "drain");
  EXPECT_EQ(p.steps[0].argv.size(), 3u);
  EXPECT_EQ(p.steps[0].timeout, std::chrono::minutes(2));
  EXPECT_EQ(p.steps[1].name, "command #2");
  EXPECT_EQ(p.steps[2].method, "POST");
  EXPECT_EQ(p.steps[3].kind, StepKind::kScale);
  EXPECT_EQ(p.steps[3].replicas, "+2");
  EXPECT_EQ(p.steps[3].k8s_namespace, "serving");
  EXPECT_EQ(p.steps[4].hook.url, "http://127.0.0.1:9/scale");
  EXPECT_EQ(p.steps[6].argv[1], "${model}");
  EXPECT_EQ(p.steps[7].weight, 30);
  EXPECT_EQ(p.steps[8].webhook.headers.size(), 1u);
  EXPECT_EQ(p.steps[9].duration, std::chrono::minutes(2));
  EXPECT_EQ(p.steps[10].within, std::chrono::minutes(10));
  EXPECT_EQ(p.steps[11].query, "vector(1)");
  EXPECT_EQ(p.steps[12].severity, "page");
  EXPECT_EQ(p.steps[13].kind, StepKind::kEscalate);
}

// Each error names file:line:column; all of them are reported at once.
TEST(PlaybookFileTest, ReportsEveryErrorWithItsPosition) {
  const char* text = R"(playbooks:
  - name: a
    mach: ['alertname="X"']
    steps:
      - wait: 1m
  - name: b
    match: ['alertname=~"(unclosed"']
    steps:
      - command: "kubectl drain ${labels.node}"
  - name: c
    match: ['alertname="X"']
    steps:
      - restart: {}
      - comand: ["/bin/true"]
      - http: {url: "ftp://x"}
      - command: ["/bin/echo", "${lables.x}"]
      - command: ["/bin/sh", "-c", "echo ${labels.x}"]
      - wait: 1m
        verify: up
    cooldown: soon
)";
  auto r = ParsePlaybookFile(text, "bad.yml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("bad.yml:3:5: unknown key 'mach' in playbook, did you mean 'match'?"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yml:2:5: 'match' is required"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yml:7:13: bad matcher"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yml:9:18: a command must be an argument list"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yml:13:9: unknown key 'restart' in step"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yml:14:9: unknown key 'comand' in step, did you mean 'command'?"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yml:15:21: URL 'ftp://x' must start with http:// or https://"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yml:16:32: unknown reference ${lables.x}"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yml:17:36: references pasted into a shell script are refused"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yml:18:9: a step has exactly one kind"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yml:20:15:"), std::string::npos) << m;
}

TEST(PlaybookFileTest, RefusesShellCommandLinesAndUnsafePrograms) {
  auto r = ParsePlaybookFile(R"(playbooks:
  - name: a
    match: 'alertname="X"'
    steps:
      - command: ["kubectl drain node1"]
      - command: ["${labels.program}", "x"]
      - command: []
)",
                             "f.yml");
  ASSERT_FALSE(r.ok());
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("f.yml:5:19: the program 'kubectl drain node1' looks like a shell command line"), std::string::npos)
      << m;
  EXPECT_NE(m.find("f.yml:6:19: the program (first argument) must be written out"), std::string::npos) << m;
  EXPECT_NE(m.find("f.yml:7:18: a command needs at least the program"), std::string::npos) << m;
}

TEST(PlaybookFileTest, RequiresNamesMatchersAndSteps) {
  auto r = ParsePlaybookFile(R"(playbooks:
  - description: nothing
  - name: "bad name!"
    match: []
    steps: []
  - name: ok
    match: ['a="b"']
    steps: [{wait: 1s}]
  - name: ok
    match: ['a="b"']
    steps: [{wait: 1s}]
)",
                             "n.yml");
  ASSERT_FALSE(r.ok());
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("n.yml:2:5: 'name' is required in playbook"), std::string::npos) << m;
  EXPECT_NE(m.find("n.yml:3:11: playbook name 'bad name!'"), std::string::npos) << m;
  EXPECT_NE(m.find("n.yml:4:12: match needs at least one matcher"), std::string::npos) << m;
  EXPECT_NE(m.find("n.yml:5:12: a playbook needs at least one step"), std::string::npos) << m;
  EXPECT_NE(m.find("n.yml:9:5: playbook 'ok' is already defined at n.yml:6:5"), std::string::npos) << m;
}

TEST(PlaybookFileTest, YamlSyntaxErrorsAndEmptyFiles) {
  auto bad = ParsePlaybookFile("playbooks: [\n", "s.yml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("s.yml"), std::string::npos);
  auto empty = ParsePlaybookFile("", "e.yml");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto other = ParsePlaybookFile("playbook: []\n", "o.yml");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("o.yml:1:1: unknown key 'playbook' in playbook file, did you mean 'playbooks'?"),
            std::string::npos)
      << other.status().message();
}

TEST(PlaybookFileTest, CheckPlaybookFilesReportsEachFile) {
  testing::TempDir dir;
  {
    std::ofstream(dir.Path("good.yml")) << "playbooks:\n  - name: a\n    match: ['a=\"b\"']\n    steps: [{wait: 1s}]\n";
    std::ofstream(dir.Path("bad.yml")) << "playbooks:\n  - name: a\n    steps: [{wait: soon}]\n";
  }
  std::ostringstream out, err;
  EXPECT_EQ(CheckPlaybookFiles({dir.Path("good.yml")}, Env::Default(), out, err), 0);
  EXPECT_NE(out.str().find("SUCCESS: 1 playbook found"), std::string::npos) << out.str();
  EXPECT_EQ(CheckPlaybookFiles({dir.Path("good.yml"), dir.Path("bad.yml"), dir.Path("missing.yml")}, Env::Default(),
                               out, err),
            1);
  EXPECT_NE(err.str().find(dir.Path("bad.yml") + ":3:20:"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("missing.yml"), std::string::npos) << err.str();
}

TEST(ExpandTest, SubstitutesAndEscapes) {
  ExpandContext ctx;
  ctx.labels = {{"pod", "a b/\"c\""}, {"x", "$y ${labels.pod}"}};
  ctx.vars = {{"incident", "i-1"}};
  EXPECT_EQ(Expand("${labels.pod}|${incident}|${labels.none}|$$|$a", ctx), "a b/\"c\"|i-1||$|$a");
  EXPECT_EQ(Expand("${labels.x}", ctx), "$y ${labels.pod}");  // never expanded twice
  EXPECT_EQ(Expand("/p/${labels.pod}", ctx, Escape::kUrl), "/p/a%20b%2F%22c%22");
  EXPECT_EQ(Expand("up{pod=\"${labels.pod}\"}", ctx, Escape::kPromQL), "up{pod=\"a b/\\\"c\\\"\"}");
  EXPECT_EQ(CheckReferences("${labels.a} ${annotations.b} ${incident}", {"incident"}), "");
  EXPECT_NE(CheckReferences("${model}", {"incident"}), "");
  EXPECT_NE(CheckReferences("${labels.a", {}), "");
}

}  // namespace
}  // namespace tyto::playbook
