#include "audit_cmd.h"

#include <ostream>
#include <vector>

#include "audit/chain.h"
#include "tyto/env.h"

namespace tyto::tools {

int AuditVerify(const std::string& data_dir, const std::string& file, std::ostream& out, std::ostream& err) {
  Env* env = Env::Default();
  std::vector<std::string> paths;
  if (!file.empty()) {
    paths.push_back(file);
  } else {
    for (const char* p : {"/audit/audit.log", "/alerting/playbooks/audit.jsonl"}) {
      if (env->FileExists(data_dir + p)) paths.push_back(data_dir + p);
    }
    if (paths.empty()) {
      err << "tyto: no audit log in " << data_dir << " (looked for audit/audit.log and alerting/playbooks/audit.jsonl)\n";
      return 2;
    }
  }
  int code = 0;
  for (const std::string& path : paths) {
    auto v = audit::Verify(env, path);
    if (!v.ok()) {
      err << "tyto: " << v.status().message() << "\n";
      code = std::max(code, 2);
      continue;
    }
    if (v->intact()) {
      out << v->ToString(path) << "\n";
    } else {
      err << v->ToString(path) << "\n";
      if (v->records > 0) {
        err << "  the " << v->records << " records before it are intact (last seq " << v->last_seq << ", hash "
            << v->last_hash << ")\n";
      }
      code = std::max(code, 1);
    }
  }
  return code;
}

}  // namespace tyto::tools
