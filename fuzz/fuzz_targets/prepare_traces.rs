//! OTLP trace requests in protobuf: whatever decodes must be stored by copying its own bytes
//! into chunks that hold exactly what encoding the decoded request would have stored.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(result) = obs::store::copied_chunks_match_encoded(data) {
        result.expect("copied chunks match encoded ones");
    }
});
