//! OTLP/HTTP and OTLP/gRPC protobuf bodies, all three signals (the first byte picks one).
//! Decoding must never panic; whatever decodes must survive a re-encode and decode unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use obs::sink::decode::{Encoding, Signal, decode, encode_protobuf};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let signal = Signal::ALL[usize::from(selector) % 3];
    if let Ok(payload) = decode(signal, Encoding::Protobuf, body) {
        let again = encode_protobuf(&payload);
        let decoded =
            decode(signal, Encoding::Protobuf, &again).expect("a re-encoded request decodes");
        assert_eq!(encode_protobuf(&decoded), again, "re-encoding is stable");
    }
});
