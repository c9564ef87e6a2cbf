#include "collect/gpu/nvml.h"

namespace tyto::collect::gpu {}  // namespace tyto::collect::gpu
