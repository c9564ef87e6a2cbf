// NodeModel's pages: the Prometheus text format (0.0.4) with the real exporters' metric names,
// label names, types and HELP texts. Every series carries simulated="true".
#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>

#include "simulate/node_model.h"

namespace tyto::simulate {
namespace {

constexpr double kFbTotalBytes = 81559.0 * 1024 * 1024;

void AppendValue(std::string* out, double v) {
  char buf[32];
  char* end;
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    end = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(v)).ptr;
  } else if (std::isnan(v)) {
    out->append("NaN");
    return;
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  } else {
    end = std::to_chars(buf, buf + sizeof(buf), v).ptr;
  }
  out->append(buf, end);
}

// Appends HELP, TYPE and samples in the order the exporters write them.
class PageWriter {
 public:
  explicit PageWriter(std::string* out) : out_(out) {}

  void Family(std::string_view name, std::string_view type, std::string_view help) {
    out_->append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
    out_->append(name).append(" ").append(type).append("\n");
  }

  // name{labels} value; `labels` is rendered label text without braces, never empty (every
  // series has simulated="true").
  void Sample(std::string_view name, std::string_view labels, double v) {
    out_->append(name).append("{").append(labels).append("} ");
    AppendValue(out_, v);
    out_->push_back('\n');
  }
  void Sample(std::string_view name, std::string_view labels, std::string_view extra_name,
              std::string_view extra_value, double v) {
    out_->append(name).append("{").append(extra_name).append("=\"").append(extra_value).append("\",");
    out_->append(labels).append("} ");
    AppendValue(out_, v);
    out_->push_back('\n');
  }

  // _bucket{le}, _sum and _count of one histogram; values multiplied by `scale` for the sum
  // (bounds are already in the exposed unit).
  void Histogram(std::string_view name, std::string_view type_help, std::string_view labels, const HistogramState& h) {
    Family(name, "histogram", type_help);
    const std::string base(name);
    for (size_t i = 0; i < h.bounds->size(); ++i) {
      char buf[32];
      char* end = std::to_chars(buf, buf + sizeof(buf), (*h.bounds)[i]).ptr;
      Bucket(base, labels, std::string_view(buf, static_cast<size_t>(end - buf)), h.cumulative[i]);
    }
    Bucket(base, labels, "+Inf", h.cumulative.back());
    out_->append(base).append("_sum{").append(labels).append("} ");
    AppendValue(out_, h.sum);
    out_->append("\n").append(base).append("_count{").append(labels).append("} ");
    AppendValue(out_, h.count());
    out_->push_back('\n');
  }

 private:
  void Bucket(const std::string& base, std::string_view labels, std::string_view le, double v) {
    out_->append(base).append("_bucket{").append(labels).append(",le=\"").append(le).append("\"} ");
    AppendValue(out_, v);
    out_->push_back('\n');
  }

  std::string* out_;
};

struct DcgmField {
  std::string_view name;
  std::string_view type;
  std::string_view help;
  std::function<double(const GpuState&)> value;
};

const std::vector<DcgmField>& DcgmFields() {
  static const std::vector<DcgmField>* fields = new std::vector<DcgmField>{
      {"DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz).", [](const GpuState& g) { return g.sm_clock; }},
      {"DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz).", [](const GpuState&) { return 2619.0; }},
      {"DCGM_FI_DEV_MEMORY_TEMP", "gauge", "Memory temperature (in C).",
       [](const GpuState& g) { return std::floor(g.temp + 6); }},
      {"DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C).", [](const GpuState& g) { return std::floor(g.temp); }},
      {"DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W).", [](const GpuState& g) { return g.power; }},
      {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter", "Total energy consumption since boot (in mJ).",
       [](const GpuState& g) { return g.energy_mj; }},
      {"DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "counter", "Total number of PCIe retries.", [](const GpuState&) { return 0.0; }},
      {"DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).", [](const GpuState& g) { return g.util; }},
      {"DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %).",
       [](const GpuState& g) { return g.mem_copy_util; }},
      {"DCGM_FI_DEV_ENC_UTIL", "gauge", "Encoder utilization (in %).", [](const GpuState&) { return 0.0; }},
      {"DCGM_FI_DEV_DEC_UTIL", "gauge", "Decoder utilization (in %).", [](const GpuState&) { return 0.0; }},
      {"DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered.",
       [](const GpuState& g) { return g.xid; }},
      {"DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB).",
       [](const GpuState& g) { return 81559.0 - 548.0 - g.fb_used; }},
      {"DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB).", [](const GpuState& g) { return g.fb_used; }},
      {"DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "counter", "Total number of single-bit volatile ECC errors.",
       [](const GpuState& g) { return g.sbe; }},
      {"DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "counter", "Total number of double-bit volatile ECC errors.",
       [](const GpuState& g) { return g.dbe; }},
      {"DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", "gauge", "Current clock throttle reasons (a bit mask).",
       [](const GpuState& g) { return g.throttle; }},
      {"DCGM_FI_PROF_GR_ENGINE_ACTIVE", "gauge", "Ratio of time the graphics engine is active.",
       [](const GpuState& g) { return g.gr_active; }},
      {"DCGM_FI_PROF_SM_ACTIVE", "gauge", "The ratio of cycles an SM has at least 1 warp assigned.",
       [](const GpuState& g) { return g.sm_active; }},
      {"DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "gauge", "Ratio of cycles the tensor (HMMA) pipe is active.",
       [](const GpuState& g) { return g.tensor_active; }},
      {"DCGM_FI_PROF_DRAM_ACTIVE", "gauge",
       "Ratio of cycles the device memory interface is active sending or receiving data.",
       [](const GpuState& g) { return g.dram_active; }},
  };
  return *fields;
}

}  // namespace

void NodeModel::RenderDcgm(std::string* out) const {
  PageWriter w(out);
  for (const DcgmField& f : DcgmFields()) {
    w.Family(f.name, f.type, f.help);
    for (const GpuState& g : gpus_) w.Sample(f.name, g.labels, f.value(g));
  }
}

void NodeModel::RenderNodeExporter(int64_t now_ms, std::string* out) const {
  PageWriter w(out);
  const std::string_view sim = "simulated=\"true\"";
  w.Family("node_boot_time_seconds", "gauge", "Node boot time, in unixtime.");
  w.Sample("node_boot_time_seconds", sim, host_.boot_time);
  w.Family("node_cpu_seconds_total", "counter", "Seconds the CPUs spent in each mode.");
  std::string labels;
  for (int c = 0; c < HostState::kCpus; ++c) {
    for (size_t m = 0; m < HostState::kModes.size(); ++m) {
      labels.assign("cpu=\"").append(std::to_string(c)).append("\",mode=\"").append(HostState::kModes[m]);
      labels.append("\",simulated=\"true\"");
      w.Sample("node_cpu_seconds_total", labels, host_.cpu[static_cast<size_t>(c)][m]);
    }
  }
  static constexpr std::string_view kDisk = "device=\"nvme0n1\",simulated=\"true\"";
  w.Family("node_disk_io_time_seconds_total", "counter", "Total seconds spent doing I/Os.");
  w.Sample("node_disk_io_time_seconds_total", kDisk, host_.disk_io_time);
  w.Family("node_disk_read_bytes_total", "counter", "The total number of bytes read successfully.");
  w.Sample("node_disk_read_bytes_total", kDisk, host_.disk_read);
  w.Family("node_disk_reads_completed_total", "counter", "The total number of reads completed successfully.");
  w.Sample("node_disk_reads_completed_total", kDisk, host_.disk_reads);
  w.Family("node_disk_writes_completed_total", "counter", "The total number of writes completed successfully.");
  w.Sample("node_disk_writes_completed_total", kDisk, host_.disk_writes);
  w.Family("node_disk_written_bytes_total", "counter", "The total number of bytes written successfully.");
  w.Sample("node_disk_written_bytes_total", kDisk, host_.disk_written);
  static constexpr std::string_view kFs = "device=\"/dev/nvme0n1p2\",fstype=\"ext4\",mountpoint=\"/\",simulated=\"true\"";
  w.Family("node_filesystem_avail_bytes", "gauge", "Filesystem space available to non-root users in bytes.");
  w.Sample("node_filesystem_avail_bytes", kFs, host_.fs_avail);
  w.Family("node_filesystem_size_bytes", "gauge", "Filesystem size in bytes.");
  w.Sample("node_filesystem_size_bytes", kFs, host_.fs_size);
  w.Family("node_load1", "gauge", "1m load average.");
  w.Sample("node_load1", sim, std::round(host_.load1 * 100) / 100);
  w.Family("node_load15", "gauge", "15m load average.");
  w.Sample("node_load15", sim, std::round(host_.load15 * 100) / 100);
  w.Family("node_load5", "gauge", "5m load average.");
  w.Sample("node_load5", sim, std::round(host_.load5 * 100) / 100);
  w.Family("node_memory_MemAvailable_bytes", "gauge", "Memory information field MemAvailable_bytes.");
  w.Sample("node_memory_MemAvailable_bytes", sim, host_.mem_available);
  w.Family("node_memory_MemTotal_bytes", "gauge", "Memory information field MemTotal_bytes.");
  w.Sample("node_memory_MemTotal_bytes", sim, host_.mem_total);
  static constexpr std::array<std::string_view, 3> kDevices = {"device=\"eth0\",simulated=\"true\"",
                                                               "device=\"ib0\",simulated=\"true\"",
                                                               "device=\"ib1\",simulated=\"true\""};
  w.Family("node_network_receive_bytes_total", "counter", "Network device statistic receive_bytes.");
  for (size_t i = 0; i < kDevices.size(); ++i) w.Sample("node_network_receive_bytes_total", kDevices[i], host_.rx[i]);
  w.Family("node_network_transmit_bytes_total", "counter", "Network device statistic transmit_bytes.");
  for (size_t i = 0; i < kDevices.size(); ++i) w.Sample("node_network_transmit_bytes_total", kDevices[i], host_.tx[i]);
  w.Family("node_time_seconds", "gauge", "System time in seconds since epoch (1970).");
  w.Sample("node_time_seconds", sim, static_cast<double>(now_ms) / 1000.0);
  w.Family("node_uname_info", "gauge", "Labeled system information as provided by the uname system call.");
  w.Sample("node_uname_info",
           "machine=\"x86_64\",nodename=\"" + hostname_ + "\",release=\"6.1.0-18-amd64\",sysname=\"Linux\",simulated=\"true\"",
           1);
}

void NodeModel::RenderReplica(int replica, std::string* out) const {
  const ReplicaState& r = replicas_[static_cast<size_t>(replica)];
  const std::string& l = r.model_label;
  PageWriter w(out);
  switch (r.kind) {
    case ServerKind::kVllm: {
      w.Family("vllm:num_requests_running", "gauge", "Number of requests currently running on GPU.");
      w.Sample("vllm:num_requests_running", l, r.running);
      w.Family("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.");
      w.Sample("vllm:num_requests_waiting", l, r.waiting);
      w.Family("vllm:num_requests_swapped", "gauge", "Number of requests swapped to CPU.");
      w.Sample("vllm:num_requests_swapped", l, 0);
      w.Family("vllm:gpu_cache_usage_perc", "gauge", "GPU KV-cache usage. 1 means 100 percent usage.");
      w.Sample("vllm:gpu_cache_usage_perc", l, std::round(r.kv_cache * 1e6) / 1e6);
      w.Family("vllm:cpu_cache_usage_perc", "gauge", "CPU KV-cache usage. 1 means 100 percent usage.");
      w.Sample("vllm:cpu_cache_usage_perc", l, 0);
      w.Family("vllm:num_preemptions_total", "counter", "Cumulative number of preemption from the engine.");
      w.Sample("vllm:num_preemptions_total", l, r.preemptions);
      w.Family("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.");
      w.Sample("vllm:prompt_tokens_total", l, r.prompt_tokens);
      w.Family("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.");
      w.Sample("vllm:generation_tokens_total", l, r.generation_tokens);
      w.Family("vllm:request_success_total", "counter", "Count of successfully processed requests.");
      w.Sample("vllm:request_success_total", l, "finished_reason", "length", r.success_length);
      w.Sample("vllm:request_success_total", l, "finished_reason", "stop", r.success_stop);
      w.Histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", l, r.ttft_hist);
      w.Histogram("vllm:time_per_output_token_seconds", "Histogram of time per output token in seconds.", l,
                  r.tpot_hist);
      w.Histogram("vllm:e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.", l,
                  r.e2e_hist);
      w.Histogram("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", l,
                  r.queue_hist);
      w.Family("vllm:cache_config_info", "gauge", "Information of the LLMEngine CacheConfig.");
      w.Sample("vllm:cache_config_info", "block_size=\"16\",gpu_memory_utilization=\"0.9\"," + l, 1);
      break;
    }
    case ServerKind::kTgi: {
      w.Family("tgi_batch_current_max_tokens", "gauge", "Maximum tokens for the current batch.");
      w.Sample("tgi_batch_current_max_tokens", l,
               std::round(r.running * (r.model->prompt_tokens + r.model->output_tokens)));
      w.Family("tgi_batch_current_size", "gauge", "Current batch size.");
      w.Sample("tgi_batch_current_size", l, r.running);
      w.Family("tgi_queue_size", "gauge", "Current queue size.");
      w.Sample("tgi_queue_size", l, r.waiting);
      const double success = r.success_stop + r.success_length;
      w.Family("tgi_request_count", "counter", "Total number of requests.");
      w.Sample("tgi_request_count", l, success + r.failures);
      w.Family("tgi_request_success", "counter", "Number of successful requests.");
      w.Sample("tgi_request_success", l, success);
      w.Family("tgi_request_failure", "counter", "Number of failed requests, by error.");
      w.Sample("tgi_request_failure", l, "err", "generation", r.failures - r.rejected);
      w.Sample("tgi_request_failure", l, "err", "overloaded", r.rejected);
      w.Histogram("tgi_request_duration", "Total time spent processing the request (e2e latency).", l, r.e2e_hist);
      w.Histogram("tgi_request_queue_duration", "Time spent in the queue per request.", l, r.queue_hist);
      w.Histogram("tgi_request_mean_time_per_token_duration", "Mean time per token per request.", l, r.tpot_hist);
      w.Histogram("tgi_request_input_length", "Input tokens per request.", l, r.prompt_hist);
      w.Histogram("tgi_request_generated_tokens", "Generated tokens per request.", l, r.generation_hist);
      break;
    }
    case ServerKind::kTriton: {
      const double success = r.success_stop + r.success_length;
      w.Family("nv_inference_request_success", "counter", "Number of successful inference requests, all batch sizes");
      w.Sample("nv_inference_request_success", l, success);
      w.Family("nv_inference_request_failure", "counter", "Number of failed inference requests, all batch sizes");
      w.Sample("nv_inference_request_failure", l, "reason", "BACKEND", r.failures - r.rejected);
      w.Sample("nv_inference_request_failure", l, "reason", "REJECTED", r.rejected);
      w.Family("nv_inference_count", "counter", "Number of inferences performed (does not include cached requests)");
      w.Sample("nv_inference_count", l, success);
      w.Family("nv_inference_exec_count", "counter",
               "Number of model executions performed (does not include cached requests)");
      w.Sample("nv_inference_exec_count", l, r.exec_count);
      w.Family("nv_inference_pending_request_count", "gauge",
               "Instantaneous number of pending requests awaiting execution per-model.");
      w.Sample("nv_inference_pending_request_count", l, r.waiting);
      w.Family("nv_inference_request_duration_us", "counter",
               "Cumulative inference request duration in microseconds (includes cached requests)");
      w.Sample("nv_inference_request_duration_us", l, r.request_us);
      w.Family("nv_inference_queue_duration_us", "counter",
               "Cumulative inference queuing duration in microseconds (includes cached requests)");
      w.Sample("nv_inference_queue_duration_us", l, r.queue_us);
      w.Family("nv_inference_compute_input_duration_us", "counter",
               "Cumulative compute input duration in microseconds (does not include cached requests)");
      w.Sample("nv_inference_compute_input_duration_us", l, r.input_us);
      w.Family("nv_inference_compute_infer_duration_us", "counter",
               "Cumulative compute inference duration in microseconds (does not include cached requests)");
      w.Sample("nv_inference_compute_infer_duration_us", l, r.infer_us);
      w.Family("nv_inference_compute_output_duration_us", "counter",
               "Cumulative inference compute output duration in microseconds (does not include cached requests)");
      w.Sample("nv_inference_compute_output_duration_us", l, r.output_us);
      // Triton's GPU metrics, for the GPUs this replica runs on.
      const int tp = TensorParallelFor(kind_, static_cast<int>(gpus_.size()));
      std::vector<std::string> gpu_labels;
      for (int g = r.first_gpu; g < r.first_gpu + tp; ++g) {
        gpu_labels.push_back("gpu_uuid=\"" + gpus_[static_cast<size_t>(g)].uuid + "\",simulated=\"true\"");
      }
      auto per_gpu = [&](std::string_view name, std::string_view type, std::string_view help,
                         const std::function<double(const GpuState&)>& value) {
        w.Family(name, type, help);
        for (int i = 0; i < tp; ++i) {
          w.Sample(name, gpu_labels[static_cast<size_t>(i)], value(gpus_[static_cast<size_t>(r.first_gpu + i)]));
        }
      };
      per_gpu("nv_gpu_utilization", "gauge", "GPU utilization rate [0.0 - 1.0)",
              [](const GpuState& g) { return g.util / 100; });
      per_gpu("nv_gpu_memory_total_bytes", "gauge", "GPU total memory, in bytes",
              [](const GpuState&) { return kFbTotalBytes; });
      per_gpu("nv_gpu_memory_used_bytes", "gauge", "GPU used memory, in bytes",
              [](const GpuState& g) { return g.fb_used * 1024 * 1024; });
      per_gpu("nv_gpu_power_usage", "gauge", "GPU power usage in watts", [](const GpuState& g) { return g.power; });
      per_gpu("nv_gpu_power_limit", "gauge", "GPU power management limit in watts",
              [](const GpuState&) { return 700.0; });
      per_gpu("nv_energy_consumption", "counter", "GPU energy consumption in joules since the Triton Server started",
              [](const GpuState& g) { return std::floor(g.energy_mj / 1000); });
      break;
    }
  }
  w.Family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
  w.Sample("process_start_time_seconds", "simulated=\"true\"", r.process_start_s);
}

}  // namespace tyto::simulate
