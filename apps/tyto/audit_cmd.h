// `tyto audit verify`: checks the hash chain and head file of the audit logs
// (docs/format/audit.md) and names the first broken record.
#pragma once

#include <iosfwd>
#include <string>

namespace tyto::tools {

// Verifies `file`, or with `data_dir` the trail (<data_dir>/audit/audit.log) and the playbook
// log (<data_dir>/alerting/playbooks/audit.jsonl), those that exist. Prints one line per log to
// `out` when intact, the first broken record to `err` otherwise. Returns 0 when every log is
// intact, 1 when one is not, 2 when there is nothing to verify or a file cannot be read.
int AuditVerify(const std::string& data_dir, const std::string& file, std::ostream& out, std::ostream& err);

}  // namespace tyto::tools
