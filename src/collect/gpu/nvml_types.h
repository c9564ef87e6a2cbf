// The part of NVML's C interface (libnvidia-ml.so.1) the GPU collector uses, declared here from
// NVML's public API reference so the build needs no NVIDIA headers or packages. Only types,
// constants and function signatures: the library is opened at run time (nvml.h).
//
// The layouts below are NVML's ABI and must match it byte for byte; names are Tyto's. Included
// by the fake library in testdata/ too, so both sides of the ABI agree by construction.
// Standard headers only: this file is compiled into a shared library without Tyto.
#pragma once

#include <climits>
#include <cstdint>

namespace tyto::collect::gpu::nvml {

// nvmlReturn_t (a C enum: int-sized).
using Return = int;
inline constexpr Return kSuccess = 0;
inline constexpr Return kErrorUninitialized = 1;
inline constexpr Return kErrorInvalidArgument = 2;
inline constexpr Return kErrorNotSupported = 3;
inline constexpr Return kErrorNoPermission = 4;
inline constexpr Return kErrorNotFound = 6;
inline constexpr Return kErrorInsufficientSize = 7;
inline constexpr Return kErrorDriverNotLoaded = 9;
inline constexpr Return kErrorTimeout = 10;
inline constexpr Return kErrorFunctionNotFound = 13;
inline constexpr Return kErrorGpuIsLost = 15;
inline constexpr Return kErrorArgumentVersionMismatch = 25;
inline constexpr Return kErrorUnknown = 999;

// Opaque handles: nvmlDevice_t, nvmlEventSet_t.
struct DeviceOpaque;
using Device = DeviceOpaque*;
struct EventSetOpaque;
using EventSet = EventSetOpaque*;

// nvmlUtilization_t: percent of the last sample period.
struct Utilization {
  unsigned int gpu;
  unsigned int memory;
};

// nvmlMemory_t: bytes.
struct Memory {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

// nvmlMemory_v2_t: bytes; `version` must be kMemoryV2Version.
struct MemoryV2 {
  unsigned int version;
  unsigned long long total;
  unsigned long long reserved;
  unsigned long long free;
  unsigned long long used;
};
// NVML's struct versions: the struct's size with the version number in the top byte.
inline constexpr unsigned int kMemoryV2Version = static_cast<unsigned int>(sizeof(MemoryV2)) | (2u << 24);

// nvmlPciInfo_t (the layout read by nvmlDeviceGetPciInfo_v3).
struct PciInfo {
  char bus_id_legacy[16];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pci_device_id;
  unsigned int pci_sub_system_id;
  char bus_id[32];  // "00000000:3B:00.0", NUL-terminated
};

// nvmlValueType_t and nvmlValue_t.
inline constexpr int kValueTypeDouble = 0;
inline constexpr int kValueTypeUnsignedInt = 1;
inline constexpr int kValueTypeUnsignedLong = 2;
inline constexpr int kValueTypeUnsignedLongLong = 3;
inline constexpr int kValueTypeSignedLongLong = 4;
inline constexpr int kValueTypeSignedInt = 5;
inline constexpr int kValueTypeUnsignedShort = 6;
union Value {
  double d;
  unsigned int ui;
  unsigned long ul;
  unsigned long long ull;
  long long sll;
  int si;
  unsigned short us;
};

// nvmlFieldValue_t: the caller sets field_id (and scope_id where the field has one); NVML fills
// the rest, with a per-field `nvml_return`.
struct FieldValue {
  unsigned int field_id;
  unsigned int scope_id;
  long long timestamp;
  long long latency_usec;
  int value_type;
  Return nvml_return;
  Value value;
};

// Field ids (NVML_FI_DEV_*) read through nvmlDeviceGetFieldValues.
inline constexpr unsigned int kFieldEccSbeVolatileTotal = 3;
inline constexpr unsigned int kFieldEccDbeVolatileTotal = 4;
inline constexpr unsigned int kFieldEccSbeAggregateTotal = 5;
inline constexpr unsigned int kFieldEccDbeAggregateTotal = 6;
inline constexpr unsigned int kFieldRetiredSbe = 29;
inline constexpr unsigned int kFieldRetiredDbe = 30;
inline constexpr unsigned int kFieldRetiredPending = 31;
inline constexpr unsigned int kFieldNvLinkCrcFlitErrorTotal = 38;
inline constexpr unsigned int kFieldNvLinkCrcDataErrorTotal = 45;
inline constexpr unsigned int kFieldNvLinkReplayErrorTotal = 52;
inline constexpr unsigned int kFieldNvLinkRecoveryErrorTotal = 59;
inline constexpr unsigned int kFieldMemoryTemp = 82;
inline constexpr unsigned int kFieldNvLinkThroughputDataTx = 138;  // KiB; scope: link, or all
inline constexpr unsigned int kFieldNvLinkThroughputDataRx = 139;
inline constexpr unsigned int kFieldRemappedCorrectable = 142;
inline constexpr unsigned int kFieldRemappedUncorrectable = 143;
inline constexpr unsigned int kFieldRemappedPending = 144;
inline constexpr unsigned int kFieldRemappedFailure = 145;
// scope_id for the NVLink throughput fields: the sum over all links.
inline constexpr unsigned int kScopeAllLinks = UINT_MAX;

// nvmlTemperatureSensors_t, nvmlClockType_t, nvmlPcieUtilCounter_t.
inline constexpr int kTemperatureGpu = 0;
inline constexpr int kClockSm = 1;
inline constexpr int kClockMem = 2;
inline constexpr int kPcieUtilTxBytes = 0;
inline constexpr int kPcieUtilRxBytes = 1;
// nvmlPstates_t: 0 (fastest) to 15; 32 means unknown.
inline constexpr int kPstateUnknown = 32;

// nvmlPerfPolicyType_t: the clock-limiting policies nvmlDeviceGetViolationStatus reports on.
inline constexpr int kPerfPolicyPower = 0;
inline constexpr int kPerfPolicyThermal = 1;
inline constexpr int kPerfPolicySyncBoost = 2;
inline constexpr int kPerfPolicyBoardLimit = 3;
inline constexpr int kPerfPolicyLowUtilization = 4;
inline constexpr int kPerfPolicyReliability = 5;

// nvmlViolationTime_t: how long a policy has held the clocks down since the driver loaded.
struct ViolationTime {
  unsigned long long reference_time;  // when the value was taken (CPU time, microseconds)
  unsigned long long violation_time;  // time the policy limited the clocks (nanoseconds)
};

// nvmlEventType bits, and nvmlEventData_t (the layout read by nvmlEventSetWait_v2).
inline constexpr unsigned long long kEventTypeXidCriticalError = 0x8;
struct EventData {
  Device device;
  unsigned long long event_type;
  unsigned long long event_data;  // for XID events: the XID number
  unsigned int gpu_instance_id;
  unsigned int compute_instance_id;
};

// nvmlProcessInfo_t (the layout read by nvmlDeviceGetComputeRunningProcesses_v3 and _v2).
struct ProcessInfo {
  unsigned int pid;
  unsigned long long used_gpu_memory;  // bytes, or kValueNotAvailable
  unsigned int gpu_instance_id;
  unsigned int compute_instance_id;
};
// nvmlProcessUtilizationSample_t: one process's share of the GPU over NVML's last sampling period.
struct ProcessUtilizationSample {
  unsigned int pid;
  unsigned long long time_stamp;  // CPU time of the sample, microseconds since the epoch
  unsigned int sm_util;           // %
  unsigned int mem_util;          // % (memory bandwidth)
  unsigned int enc_util;
  unsigned int dec_util;
};

// NVML_VALUE_NOT_AVAILABLE as an unsigned long long.
inline constexpr unsigned long long kValueNotAvailable = ~0ull;

// Buffer sizes NVML documents for its string getters.
inline constexpr unsigned int kSystemDriverVersionBufferSize = 80;
inline constexpr unsigned int kDeviceNameBufferSize = 96;
inline constexpr unsigned int kDeviceUuidBufferSize = 96;
inline constexpr unsigned int kDeviceSerialBufferSize = 30;

// The function signatures, by NVML's exported names.
using InitFn = Return (*)();
using ShutdownFn = Return (*)();
using ErrorStringFn = const char* (*)(Return);
using SystemGetDriverVersionFn = Return (*)(char*, unsigned int);
using SystemGetCudaDriverVersionFn = Return (*)(int*);
using DeviceGetCountFn = Return (*)(unsigned int*);
using DeviceGetHandleByIndexFn = Return (*)(unsigned int, Device*);
using DeviceGetStringFn = Return (*)(Device, char*, unsigned int);  // name, UUID, serial
using DeviceGetUintFn = Return (*)(Device, unsigned int*);  // minor number, power, fan, ...
using DeviceGetUllFn = Return (*)(Device, unsigned long long*);  // energy, throttle reasons
using DeviceGetPciInfoFn = Return (*)(Device, PciInfo*);
using DeviceGetUtilizationRatesFn = Return (*)(Device, Utilization*);
using DeviceGetMemoryInfoFn = Return (*)(Device, Memory*);
using DeviceGetMemoryInfoV2Fn = Return (*)(Device, MemoryV2*);
using DeviceGetTemperatureFn = Return (*)(Device, int, unsigned int*);
using DeviceGetClockInfoFn = Return (*)(Device, int, unsigned int*);
using DeviceGetPcieThroughputFn = Return (*)(Device, int, unsigned int*);
using DeviceGetPerformanceStateFn = Return (*)(Device, int*);
using DeviceGetCodecUtilizationFn = Return (*)(Device, unsigned int*, unsigned int*);  // util, period us
using DeviceGetViolationStatusFn = Return (*)(Device, int, ViolationTime*);  // policy
using DeviceGetFieldValuesFn = Return (*)(Device, int, FieldValue*);
using DeviceGetMigModeFn = Return (*)(Device, unsigned int*, unsigned int*);  // current, pending
using DeviceGetMigDeviceHandleByIndexFn = Return (*)(Device, unsigned int, Device*);
using DeviceGetProcessesFn = Return (*)(Device, unsigned int*, ProcessInfo*);  // in: capacity, out: count
// nvmlDeviceGetProcessUtilization(device, samples, count (in: capacity, out: count), samples newer than)
using DeviceGetProcessUtilizationFn = Return (*)(Device, ProcessUtilizationSample*, unsigned int*, unsigned long long);
using EventSetCreateFn = Return (*)(EventSet*);
using DeviceRegisterEventsFn = Return (*)(Device, unsigned long long, EventSet);
using EventSetWaitFn = Return (*)(EventSet, EventData*, unsigned int);  // timeout in ms
using EventSetFreeFn = Return (*)(EventSet);

}  // namespace tyto::collect::gpu::nvml
