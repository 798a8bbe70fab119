//! `Content-Encoding: gzip` bodies: inflate with a 1 MiB cap, then decode as protobuf or JSON
//! (the first byte picks the signal and encoding). Must never panic or exceed the cap.

#![no_main]

use libfuzzer_sys::fuzz_target;
use obs::sink::decode::{Encoding, Signal, decode, gunzip_capped};

const CAP: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let signal = Signal::ALL[usize::from(selector) % 3];
    let encoding = if selector & 0x80 == 0 {
        Encoding::Protobuf
    } else {
        Encoding::Json
    };
    if let Ok(inflated) = gunzip_capped(body, CAP) {
        assert!(inflated.len() <= CAP);
        let _ = decode(signal, encoding, &inflated);
    }
});
