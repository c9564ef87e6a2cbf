// NVML loaded at run time (in progress).
#pragma once

namespace tyto::collect::gpu {}  // namespace tyto::collect::gpu
