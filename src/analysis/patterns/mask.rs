//! Masking: one log message → its tokens with the variable parts replaced by `<*>`.
//!
//! This owns the per-token rules (numbers, ids, hex, IPs, UUIDs, paths, URLs, durations,
//! sizes, booleans, binary bytes) and nothing else: no grouping, no state, no I/O. The rules
//! look only at the shape of a token, never at which system wrote it, so the same rules serve
//! HDFS, a JSON body and a logfmt line alike. The output style follows the LogHub-2.0
//! normalisation (`blk_-42` → `<*>`, `10.0.0.1:50010` → `<*>:<*>`, `core.42` → `core.<*>`,
//! `key=7` → `key=<*>`), so templates read the way the field writes them.

/// The placeholder for a variable part.
pub const WILDCARD: &str = "<*>";

/// Appended when a message was cut at the byte limit before templating.
pub const TRUNCATED: &str = "<…>";

/// Masks `message` into `out` (cleared first): tokens separated by single spaces.
/// Returns the number of tokens written. At most `max_tokens` tokens are kept; the rest of the
/// message becomes one [`TRUNCATED`] marker.
pub fn mask_message(message: &str, max_tokens: usize, out: &mut String) -> usize {
    out.clear();
    let mut n = 0;
    for token in message.split(|c: char| c.is_whitespace()) {
        if token.is_empty() {
            continue;
        }
        if n == max_tokens {
            out.push(' ');
            out.push_str(TRUNCATED);
            return n + 1;
        }
        if n > 0 {
            out.push(' ');
        }
        mask_token(token, out);
        n += 1;
    }
    n
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Bytes that may precede a path: a path starts a token or follows a delimiter such as
/// `(`, `=`, `:` or a quote; `load/store` (after a letter) is a word, not a path.
fn opens_path(prev: Option<u8>) -> bool {
    matches!(
        prev,
        None | Some(b'(' | b'[' | b'{' | b'=' | b':' | b',' | b'"' | b'\'' | b'<' | b'@')
    )
}

/// Where a path that starts at `start` (on a `/`) ends: paths run over anything but
/// whitespace, quotes, brackets and separators; a `:` ends it unless a `/` follows (`D:/x`),
/// so `/10.0.0.1:50010` is a path and a port.
fn path_end(b: &[u8], start: usize) -> usize {
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b',' | b';' | b'\'' | b'"' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'<' | b'>' => {
                break;
            }
            b':' if b.get(i + 1) != Some(&b'/') => break,
            _ => i += 1,
        }
    }
    i
}

/// Where the rest of a URL after `scheme://` ends: it may hold `host:port`.
fn url_end(b: &[u8], start: usize) -> usize {
    b[start..]
        .iter()
        .position(|c| matches!(c, b',' | b';' | b'\'' | b'"' | b')' | b']' | b'}' | b'>'))
        .map_or(b.len(), |p| start + p)
}

/// Whether a path is a value (an id-bearing or deep path) rather than a short route such as
/// `/checkout` or `/api/orders`, which names what was called and is kept.
fn path_is_variable(path: &[u8]) -> bool {
    let segments = path.split(|&c| c == b'/').filter(|s| !s.is_empty()).count();
    segments >= 3 || path.iter().any(u8::is_ascii_digit)
}

/// Whether a word run (letters, digits, `_`) is a value: it has a `_`-separated part that
/// starts with a digit (`42`, `0x1f`, `rdd_42_7`, `12ms`), or digits make up a third of it
/// (`R02`, `appattempt_1445_0001`), or it is a long hex string with a digit (trace and span
/// ids), or it is a boolean or null. `Slf4jLogger`, `HttpServer2` and `ipv4` stay words.
fn word_is_variable(w: &[u8]) -> bool {
    if matches!(w, b"true" | b"false" | b"null") {
        return true;
    }
    let digits = w.iter().filter(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return false;
    }
    if w.split(|&c| c == b'_')
        .any(|part| part.first().is_some_and(u8::is_ascii_digit))
    {
        return true;
    }
    if digits * 3 >= w.len() {
        return true;
    }
    w.len() >= 8 && w.iter().all(u8::is_ascii_hexdigit)
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Pushes a wildcard, folding it into a wildcard just before it: `<*><*>`, `<*>.<*>`
/// (IPs, versions, decimals) and `<*>-<*>` (dates, composite ids) become one `<*>`, and a
/// word glued to it with `_` (`blk_<*>`) is absorbed into it.
pub(crate) fn push_wildcard(out: &mut String) {
    let bytes = out.as_bytes();
    let n = bytes.len();
    if out.ends_with(WILDCARD) {
        return;
    }
    if n > WILDCARD.len() && matches!(bytes[n - 1], b'.' | b'-') && out[..n - 1].ends_with(WILDCARD)
    {
        out.pop();
        return;
    }
    if n > 0 && bytes[n - 1] == b'_' {
        let mut start = n;
        while start > 0 && is_word(bytes[start - 1]) {
            start -= 1;
        }
        // Only a word that belongs to this token: stop at the separator space.
        out.truncate(start);
    }
    out.push_str(WILDCARD);
}

/// Masks one whitespace-free token into `out`.
pub fn mask_token(token: &str, out: &mut String) {
    let b = token.as_bytes();
    // Bytes that were not UTF-8, and control characters, are binary data: a value.
    if token
        .chars()
        .any(|c| c == char::REPLACEMENT_CHARACTER || (c.is_control() && c != '\t'))
    {
        push_wildcard(out);
        return;
    }
    if is_uuid(b) {
        push_wildcard(out);
        return;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let prev = if i == 0 { None } else { Some(b[i - 1]) };
        if c == b'/' && b.get(i + 1) == Some(&b'/') && prev == Some(b':') {
            // scheme://host:port/path: the part after the scheme is a value.
            out.push_str("//");
            let end = url_end(b, i + 2);
            if end > i + 2 {
                push_wildcard(out);
            }
            i = end;
            continue;
        }
        if c == b'/' && opens_path(prev) && b.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()) {
            let end = path_end(b, i);
            if end > i + 1 && path_is_variable(&b[i..end]) {
                push_wildcard(out);
                i = end;
                continue;
            }
        }
        let negative = c == b'-'
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
            && prev.is_none_or(|p| !p.is_ascii_alphanumeric());
        if is_word(c) || negative {
            let start = i;
            i += 1;
            while i < b.len() && is_word(b[i]) {
                i += 1;
            }
            let word = &b[start..i];
            let digits_from = usize::from(negative);
            let is_key = b.get(i) == Some(&b'=') && word[0].is_ascii_alphabetic();
            if !is_key && (negative || word_is_variable(&word[digits_from..])) {
                push_wildcard(out);
            } else {
                out.push_str(&token[start..i]);
            }
            continue;
        }
        // One character of punctuation (or the start of a multi-byte one: is_word covers
        // bytes ≥ 0x80, so this is ASCII).
        out.push(c as char);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> String {
        let mut out = String::new();
        mask_message(s, 1000, &mut out);
        out
    }

    #[test]
    fn numbers_ids_and_addresses_are_masked_in_loghub_style() {
        let cases = [
            (
                "PacketResponder 3 for block blk_4242000011112222 terminating",
                "PacketResponder <*> for block <*> terminating",
            ),
            ("block blk_-1234567890123", "block <*>"),
            ("10.0.17.4:50010 is added", "<*>:<*> is added"),
            ("from /10.0.17.5", "from <*>"),
            ("request /192.168.0.9:40001", "request <*>:<*>"),
            ("generating core.77", "generating core.<*>"),
            ("fpr3=0x1f2e0000 r9=7", "fpr3=<*> r9=<*>"),
            (
                "node HOST-ABCDEF5/10.1.1.1:51000",
                "node HOST-ABCDEF5/<*>:<*>",
            ),
            (
                "split: hdfs://nn-7:9000/data/in2.txt:0+1024",
                "split: hdfs://<*>",
            ),
            (
                "listening on :[akka.tcp://actors@10.2.3.4:4000]",
                "listening on :[akka.tcp://<*>]",
            ),
            (
                "Extract jar:file:/C:/tools-1.2.0/x.jar to C:/tmp",
                "Extract jar:file:<*> to C:/tmp",
            ),
            (
                "took 1.50s and 250ms, was 12.5% of 3m20s",
                "took <*> and <*>, was <*>% of <*>",
            ),
            (
                "trace_id=b7d0c0546bbfd3212323b24a8c478de6 span=5059c388",
                "trace_id=<*> span=<*>",
            ),
            ("id 123e4567-e89b-12d3-a456-426614174000 ok", "id <*> ok"),
            ("at 2026-11-21T05:25:18.018Z", "at <*>:<*>:<*>"),
            ("done: true, error: null", "done: <*>, error: <*>"),
            ("jetty-6.1.26 started", "jetty-<*> started"),
            (
                "Slf4jLogger started via HttpServer2 on ipv4",
                "Slf4jLogger started via HttpServer2 on ipv4",
            ),
            ("force load/store alignment", "force load/store alignment"),
            (
                "GET /checkout and /api/orders but /api/orders/42",
                "GET /checkout and /api/orders but <*>",
            ),
            ("Adding #4 tokens", "Adding #<*> tokens"),
        ];
        for (line, want) in cases {
            assert_eq!(m(line), want, "masking {line:?}");
        }
    }

    #[test]
    fn whitespace_is_collapsed_and_the_token_cap_is_marked() {
        assert_eq!(m("  a \t b\n\nc  "), "a b c");
        let mut out = String::new();
        assert_eq!(mask_message("a b c d", 2, &mut out), 3);
        assert_eq!(out, "a b <…>");
    }

    #[test]
    fn binary_and_control_bytes_are_a_value() {
        assert_eq!(m("read \u{fffd}\u{fffd}x ok"), "read <*> ok");
        assert_eq!(m("bell\u{7}here"), "<*>");
    }

    #[test]
    fn json_and_logfmt_bodies_keep_their_keys() {
        assert_eq!(
            m(
                r#"{"ts": "2026-11-21T05:25:18.018Z", "http_status": 503, "duration_ms": 1507, "trace_id": "79fc8cdc9563b52b074608795284cb3f"}"#
            ),
            r#"{"ts": "<*>:<*>:<*>", "http_status": <*>, "duration_ms": <*>, "trace_id": "<*>"}"#
        );
        assert_eq!(
            m(
                r#"ts=2026-11-21T05:19:14.019Z level=info msg=authorized amount=129.97 currency=EUR"#
            ),
            "ts=<*>:<*>:<*> level=info msg=authorized amount=<*> currency=EUR"
        );
    }
}
