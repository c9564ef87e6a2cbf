#include "collect/gpu/gpu_collector.h"

namespace tyto::collect::gpu {}  // namespace tyto::collect::gpu
