#include <gtest/gtest.h>

#include "collect/gpu/gpu_collector.h"

TEST(GpuCollector, Builds) { SUCCEED(); }
