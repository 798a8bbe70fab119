//! The encoding of one chunk of a series' samples: delta-of-delta timestamps and XOR-compressed
//! values, as in Gorilla (Pelkonen et al., VLDB 2015) and Prometheus's XOR chunks.
//!
//! It owns the byte format only (no SQLite, no series): [`encode`] and [`decode`]. Decoding
//! checks everything it reads and returns an error for a damaged chunk, never panics.
//!
//! Hand-written rather than taken from a crate: the store's timestamps are nanoseconds (OTLP's),
//! often whole milliseconds, and the bit patterns of NaN and Prometheus's stale NaN must come
//! back exactly; the Gorilla crates on crates.io assume second or millisecond timestamps.
//!
//! Format: a version byte (1); the sample count (LEB128); the timestamp unit as a power of ten
//! of nanoseconds (0, 3 or 6 — the coarsest that divides every timestamp of the chunk, so
//! millisecond data costs what it costs Prometheus); the first timestamp in that unit (zigzag
//! LEB128); the first value's 64 bits (little-endian); then a bit stream of the rest, each a
//! timestamp delta-of-delta (`0` | `10`+14 bits | `110`+17 | `1110`+20 | `1111`+64) followed by
//! the value XORed with the previous one (`0` same | `10` within the previous meaningful bits |
//! `11` + 5 bits leading zeros + 6 bits length + the bits).

/// The format byte this module writes.
const FORMAT: u8 = 1;

/// Encodes `samples` (timestamp in unix nanoseconds, value bits), which must be in strictly
/// increasing time order.
pub(crate) fn encode(samples: &[(i64, u64)]) -> Vec<u8> {
    Appender::new(samples).bytes()
}

/// A chunk being built: samples can be appended one by one at O(1) each, so that the writer's
/// open chunk is not encoded again from its first sample at every commit.
#[derive(Debug, Clone)]
pub(crate) struct Appender {
    exponent: u32,
    count: u64,
    first: Option<(i64, u64)>,
    body: BitWriter,
    prev_t: i64,
    prev_delta: i64,
    prev_v: u64,
    leading: u32,
    trailing: u32,
}

impl Appender {
    /// An appender holding `samples` (strictly increasing times), in the coarsest unit that
    /// divides all of their timestamps.
    pub(crate) fn new(samples: &[(i64, u64)]) -> Appender {
        let exponent = [6u32, 3]
            .into_iter()
            .find(|e| samples.iter().all(|(t, _)| t % 10i64.pow(*e) == 0))
            .unwrap_or(0);
        let mut a = Appender {
            exponent,
            count: 0,
            first: None,
            body: BitWriter {
                out: Vec::with_capacity(samples.len() * 2),
                free: 0,
            },
            prev_t: 0,
            prev_delta: 0,
            prev_v: 0,
            leading: u32::MAX,
            trailing: 0,
        };
        for &(t, v) in samples {
            a.push_unchecked(t, v);
        }
        a
    }

    /// Appends a sample later than every sample held; `false` (and nothing appended) when its
    /// timestamp is not a multiple of the chunk's unit: the chunk must then be built again.
    pub(crate) fn push(&mut self, t: i64, v: u64) -> bool {
        if t % 10i64.pow(self.exponent) != 0 {
            return false;
        }
        self.push_unchecked(t, v);
        true
    }

    fn push_unchecked(&mut self, t: i64, v: u64) {
        let t = t / 10i64.pow(self.exponent);
        self.count += 1;
        if self.first.is_none() {
            self.first = Some((t, v));
            self.prev_t = t;
            self.prev_v = v;
            return;
        }
        let w = &mut self.body;
        let delta = t.wrapping_sub(self.prev_t);
        let dod = delta.wrapping_sub(self.prev_delta);
        match dod {
            0 => w.bits(0, 1),
            d if fits(d, 14) => {
                w.bits(0b10, 2);
                w.bits(d as u64, 14);
            }
            d if fits(d, 17) => {
                w.bits(0b110, 3);
                w.bits(d as u64, 17);
            }
            d if fits(d, 20) => {
                w.bits(0b1110, 4);
                w.bits(d as u64, 20);
            }
            d => {
                w.bits(0b1111, 4);
                w.bits(d as u64, 64);
            }
        }
        let x = v ^ self.prev_v;
        if x == 0 {
            w.bits(0, 1);
        } else {
            let lz = x.leading_zeros().min(31);
            let tz = x.trailing_zeros();
            if self.leading != u32::MAX && lz >= self.leading && tz >= self.trailing {
                w.bits(0b10, 2);
                w.bits(x >> self.trailing, 64 - self.leading - self.trailing);
            } else {
                self.leading = lz;
                self.trailing = tz;
                let sig = 64 - lz - tz;
                w.bits(0b11, 2);
                w.bits(u64::from(lz), 5);
                // 64 meaningful bits are written as 0: six bits hold 0..=63.
                w.bits(u64::from(sig & 63), 6);
                w.bits(x >> tz, sig);
            }
        }
        self.prev_delta = delta;
        self.prev_t = t;
        self.prev_v = v;
    }

    /// The chunk's bytes as [`decode`] reads them.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + self.body.out.len());
        out.push(FORMAT);
        leb128(&mut out, self.count);
        out.push(self.exponent as u8);
        if let Some((t0, v0)) = self.first {
            leb128(&mut out, zigzag(t0));
            out.extend_from_slice(&v0.to_le_bytes());
            out.extend_from_slice(&self.body.out);
        }
        out
    }
}

/// Decodes a chunk written by [`encode`]: `(unix nanoseconds, value bits)` in time order.
pub(crate) fn decode(data: &[u8]) -> Result<Vec<(i64, u64)>, String> {
    let mut r = BitReader {
        data,
        pos: 0,
        bit: 0,
    };
    let format = r.byte()?;
    if format != FORMAT {
        return Err(format!("unknown sample chunk format {format}"));
    }
    let count = r.leb128()?;
    // Every sample after the first takes at least two bits.
    if count > 1 + (data.len() as u64) * 4 {
        return Err(format!(
            "the chunk claims {count} samples in {} bytes",
            data.len()
        ));
    }
    let exponent = u32::from(r.byte()?);
    if ![0, 3, 6].contains(&exponent) {
        return Err(format!("unknown timestamp unit 10^{exponent} ns"));
    }
    let unit = 10i64.pow(exponent);
    let mut out = Vec::with_capacity(count as usize);
    if count == 0 {
        return Ok(out);
    }
    let mut t = unzigzag(r.leb128()?);
    let mut v = u64::from_le_bytes(r.bytes8()?);
    out.push((scaled(t, unit)?, v));
    let (mut delta, mut leading, mut trailing) = (0i64, u32::MAX, 0u32);
    for _ in 1..count {
        let dod = if r.bit()? == 0 {
            0
        } else if r.bit()? == 0 {
            signed(r.bits(14)?, 14)
        } else if r.bit()? == 0 {
            signed(r.bits(17)?, 17)
        } else if r.bit()? == 0 {
            signed(r.bits(20)?, 20)
        } else {
            r.bits(64)? as i64
        };
        delta = delta.wrapping_add(dod);
        if delta <= 0 {
            return Err("timestamps do not increase".into());
        }
        t = t
            .checked_add(delta)
            .ok_or_else(|| "a timestamp overflows".to_string())?;
        if r.bit()? == 1 {
            if r.bit()? == 0 {
                if leading == u32::MAX {
                    return Err("a value refers to bits no earlier value set".into());
                }
            } else {
                leading = r.bits(5)? as u32;
                let sig = match r.bits(6)? as u32 {
                    0 => 64,
                    n => n,
                };
                if leading + sig > 64 {
                    return Err("a value's bit lengths exceed 64".into());
                }
                trailing = 64 - leading - sig;
            }
            let sig = 64 - leading - trailing;
            v ^= r.bits(sig)? << trailing;
        }
        out.push((scaled(t, unit)?, v));
    }
    if r.pos + usize::from(r.bit > 0) != data.len() {
        return Err(format!(
            "{} bytes after the last sample",
            data.len() - r.pos - usize::from(r.bit > 0)
        ));
    }
    Ok(out)
}

fn scaled(t: i64, unit: i64) -> Result<i64, String> {
    t.checked_mul(unit)
        .ok_or_else(|| "a timestamp overflows".to_string())
}

fn fits(v: i64, bits: u32) -> bool {
    let half = 1i64 << (bits - 1);
    (-half..half).contains(&v)
}

fn signed(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn leb128(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[derive(Debug, Clone)]
struct BitWriter {
    out: Vec<u8>,
    /// Unused low bits of the last byte.
    free: u32,
}

impl BitWriter {
    /// Appends the low `n` bits of `v` (n ≤ 64), most significant first.
    fn bits(&mut self, v: u64, mut n: u32) {
        while n > 0 {
            if self.free == 0 {
                self.out.push(0);
                self.free = 8;
            }
            let take = n.min(self.free);
            let chunk = ((v >> (n - take)) & ((1u64 << take) - 1)) as u8;
            if let Some(last) = self.out.last_mut() {
                *last |= chunk << (self.free - take);
            }
            self.free -= take;
            n -= take;
        }
    }
}

struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Bits of `data[pos]` already read (0 = byte-aligned).
    bit: u32,
}

impl BitReader<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.data.get(self.pos).ok_or_else(truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn bytes8(&mut self) -> Result<[u8; 8], String> {
        let b = self
            .data
            .get(self.pos..self.pos + 8)
            .ok_or_else(truncated)?;
        self.pos += 8;
        let mut out = [0u8; 8];
        out.copy_from_slice(b);
        Ok(out)
    }

    fn leb128(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a number is longer than 64 bits".into())
    }

    fn bit(&mut self) -> Result<u64, String> {
        self.bits(1)
    }

    fn bits(&mut self, mut n: u32) -> Result<u64, String> {
        let mut v = 0u64;
        while n > 0 {
            let byte = *self.data.get(self.pos).ok_or_else(truncated)?;
            let avail = 8 - self.bit;
            let take = n.min(avail);
            let chunk = (byte >> (avail - take)) & (((1u16 << take) - 1) as u8);
            v = (v << take) | u64::from(chunk);
            self.bit += take;
            if self.bit == 8 {
                self.bit = 0;
                self.pos += 1;
            }
            n -= take;
        }
        Ok(v)
    }
}

fn truncated() -> String {
    "the chunk ends early".into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::STALE_NAN_BITS;

    fn round_trip(samples: &[(i64, u64)]) -> usize {
        let data = encode(samples);
        assert_eq!(decode(&data).unwrap(), samples);
        data.len()
    }

    #[test]
    fn samples_come_back_bit_for_bit() {
        let t0 = 1_700_000_000_000_000_000i64;
        let values = [
            0.0,
            1.0,
            -1.5,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-300,
            123456.789,
        ];
        let mut s: Vec<(i64, u64)> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (t0 + i as i64 * 15_000_000_000, v.to_bits()))
            .collect();
        s.push((t0 + 200_000_000_000, f64::NAN.to_bits()));
        s.push((t0 + 215_000_000_000, STALE_NAN_BITS));
        // Irregular gaps, nanosecond jitter, a huge jump.
        s.push((t0 + 215_000_000_001, 2.0f64.to_bits()));
        s.push((t0 + 900_000_000_000_000, 3.0f64.to_bits()));
        s.push((i64::MAX - 1, 4.0f64.to_bits()));
        round_trip(&s);
        round_trip(&[]);
        round_trip(&[(-5, 7)]);
        round_trip(&[(0, 0), (i64::MAX, u64::MAX)]);
    }

    #[test]
    fn a_regular_counter_takes_about_two_bytes_per_sample() {
        // 120 samples every 15 s on whole milliseconds, a counter growing by small integers.
        let t0 = 1_700_000_000_000_000_000i64;
        let mut v = 0.0;
        let s: Vec<(i64, u64)> = (0..120)
            .map(|i| {
                v += (i % 7 + 3) as f64;
                (
                    t0 + i * 15_000_000_000 + (i * 37 % 250) * 1_000_000,
                    f64::to_bits(v),
                )
            })
            .collect();
        let bytes = round_trip(&s);
        assert!(bytes < 120 * 3, "{bytes} bytes for 120 samples");
        // Built one sample at a time, the chunk is the same bytes.
        let mut a = Appender::new(&s[..1]);
        for &(t, v) in &s[1..] {
            assert!(a.push(t, v));
        }
        assert_eq!(a.bytes(), encode(&s));
        // A sample off the chunk's millisecond grid is refused: the chunk is built again.
        assert!(!a.push(s[119].0 + 15_000_000_001, 0));
    }

    #[test]
    fn damaged_chunks_are_errors_not_panics() {
        let s: Vec<(i64, u64)> = (0..50)
            .map(|i| (i * 1_000_000_000 + i % 3, (i as f64 * 1.7).to_bits()))
            .collect();
        let data = encode(&s);
        for cut in 0..data.len() {
            assert!(decode(&data[..cut]).is_err(), "cut at {cut}");
        }
        for i in 0..data.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut d = data.clone();
                d[i] ^= flip;
                // Either an error or some samples; never a panic.
                let _ = decode(&d);
            }
        }
        let mut longer = data.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
        assert!(decode(&[9]).unwrap_err().contains("format 9"));
    }
}
