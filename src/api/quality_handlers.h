// The quality endpoints (docs/quality.md):
//   POST   /api/v1/feedback            write  JSON lines of ground truth (events-api.md format)
//   GET    /api/v1/quality/evaluators  read   the evaluator plugins, their options, those in use
//   GET    /api/v1/quality/ground_truth read  per model version: labelled requests, accuracy, ...
//   GET    /api/v1/drift               read   every model's drift state; ?model=M: its columns and
//                                             reference-versus-current histograms
//   POST   /api/v1/drift/reference?model=M  write  the reference: ?from=current freezes the current
//                                             window; a body of JSON-lines rows (inference events,
//                                             `model` optional) is an uploaded reference data set
//   DELETE /api/v1/drift/reference?model=M  write  drops it: a new baseline starts
#pragma once

#include "auth/auth.h"
#include "http/router.h"
#include "tyto/clock.h"

namespace tyto::events {
struct DecodeLimits;
}
namespace tyto::evaluate {
class Registry;
}
namespace tyto::quality {
class QualityMonitor;
}

namespace tyto::api {

// Everything must outlive the router.
void AddQualityRoutes(http::Router* router, auth::Guard* guard, quality::QualityMonitor* monitor,
                      const evaluate::Registry* registry, const events::DecodeLimits* limits, Clock* clock);

}  // namespace tyto::api
