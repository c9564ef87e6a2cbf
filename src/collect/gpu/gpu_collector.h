// The GPU collector (in progress).
#pragma once

namespace tyto::collect::gpu {}  // namespace tyto::collect::gpu
