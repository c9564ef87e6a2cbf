#include "server/probe.h"

#include <memory>
#include <string>

#include "clickhouse/connection.h"
#include "nats/connection.h"
#include "remote/remote_storage.h"

namespace tyto::server {
namespace {

Status ProbeClickHouse(const clickhouse::ClickHouseConfig& c, Env* env) {
  TYTO_ASSIGN_OR_RETURN(std::string password, clickhouse::ReadPassword(env, c));
  clickhouse::Connection conn(c, std::move(password));
  for (size_t i = 0; i < conn.servers(); ++i) {
    if (Result<std::string> r = conn.Query(i, "SELECT 1", c.query_timeout); !r.ok()) return r.status();
  }
  return Status::Ok();
}

Status ProbeRemote(const remote::RemoteQueryConfig& c, Env* env) {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<remote::RemoteStorage> store, remote::RemoteStorage::Create(env, c, nullptr, nullptr));
  return store->Health();
}

Status ProbeNats(const nats::NatsConfig& c, Env* env) {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<nats::Connection> conn, nats::Connection::Connect(c, env, nullptr));
  // Health asks for the stream; a stream the servers have not made yet is not a failure here.
  Status st = conn->Health();
  if (!st.ok() && conn->connected()) return Status::Ok();
  return st;
}

}  // namespace

std::vector<api::DependencyHealth> ProbeDependencies(const Config& config, Env* env) {
  std::vector<api::DependencyHealth> out;
  const StorageConfig& s = config.storage;
  if (s.events == "clickhouse") out.push_back({"clickhouse", ProbeClickHouse(s.clickhouse, env)});
  if (s.metrics == "remote") out.push_back({"remote_metrics", ProbeRemote(s.remote_query, env)});
  if (s.bus == "nats" || s.shared_state == "nats" || config.agent.transport == "nats") {
    out.push_back({"nats", ProbeNats(s.nats, env)});
  }
  return out;
}

}  // namespace tyto::server
