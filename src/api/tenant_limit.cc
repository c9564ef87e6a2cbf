#include "api/tenant_limit.h"

namespace tyto::api {

http::Response TenantLimitResponse(const Status& s) {
  http::Response r = http::Response::Error(429, "too_many_requests", s.message());
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace tyto::api
