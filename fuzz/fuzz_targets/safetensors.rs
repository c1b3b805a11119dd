//! Weights files: any bytes as `model.safetensors` are read or refused naming the file.
#![no_main]
use candle_core::Device;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = candle_core::safetensors::load_buffer(data, &Device::Cpu);
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("model.safetensors"), data).expect("write input");
    if let Err(e) = chemlm_models::io::read_weights(dir.path(), &Device::Cpu) {
        assert!(e.to_string().contains("model.safetensors"), "{e}");
    }
});
