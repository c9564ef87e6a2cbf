// How the API answers a tenant's limit (tenant/limits.h): 429 Too Many Requests with
// Retry-After and the limit's message, in the Prometheus error shape (private to src/api).
#pragma once

#include "http/message.h"
#include "tyto/status.h"

namespace tyto::api {

http::Response TenantLimitResponse(const Status& s);

}  // namespace tyto::api
