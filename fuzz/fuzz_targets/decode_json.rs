//! OTLP/JSON bodies, all three signals (the first byte picks one). Decoding must never
//! panic; whatever decodes must survive a protobuf round trip.

#![no_main]

use libfuzzer_sys::fuzz_target;
use obs::sink::decode::{Encoding, Signal, decode, encode_protobuf};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let signal = Signal::ALL[usize::from(selector) % 3];
    if let Ok(payload) = decode(signal, Encoding::Json, body) {
        let protobuf = encode_protobuf(&payload);
        // JSON allows deeper nesting (serde_json stops at 128 levels) than prost's decoder
        // (100 messages), so a deeply nested attribute may decode only from JSON.
        if let Err(e) = decode(signal, Encoding::Protobuf, &protobuf) {
            assert!(e.to_string().contains("recursion limit"), "{e}");
        }
    }
});
