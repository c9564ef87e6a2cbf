// A fake libnvidia-ml.so.1 for the GPU collector tests (in progress).
extern "C" int tyto_fake_nvml_placeholder() { return 0; }
