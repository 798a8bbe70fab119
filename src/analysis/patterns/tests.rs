use super::*;

fn templates(lines: &[&str]) -> Vec<(String, u64)> {
    let (g, _) = group(lines.iter().copied());
    g.patterns
        .into_iter()
        .map(|p| (p.template, p.count))
        .collect()
}

fn template_of(g: &Grouping, a: Assigned) -> &str {
    g.pattern(a).map_or("", |p| p.template.as_str())
}

/// Message shapes of the LogHub systems' formats (values made up here, not taken from the
/// data): the same event with other values is one pattern, other events are others.
#[test]
fn messages_in_the_shapes_of_hdfs_hadoop_spark_zookeeper_and_bgl_group_by_event() {
    let lines = [
        "PacketResponder 2 for block blk_5550001112223334 terminating",
        "PacketResponder 0 for block blk_-880012345678 terminating",
        "Received block blk_77712 of size 91234 from /10.1.2.3",
        "Received block blk_-31 of size 67108864 from /192.168.7.200",
        "10.1.2.3:50010 Served block blk_12 to /10.9.8.7",
        "Container complete event for unknown container id container_1500000000000_0007_01_000003",
        "Container complete event for unknown container id container_1500000000000_0012_02_000011",
        "Finished task 3.0 in stage 7.0 (TID 51). 2083 bytes result sent to driver",
        "Finished task 12.0 in stage 1.0 (TID 9). 912 bytes result sent to driver",
        "Received connection request /10.20.30.40:41555",
        "Received connection request /10.20.30.41:39001",
        "generating core.1234",
        "generating core.97",
    ];
    let (g, a) = group(lines.iter().copied());
    let t: Vec<&str> = a.iter().map(|x| template_of(&g, *x)).collect();
    assert_eq!(t[0], "PacketResponder <*> for block <*> terminating");
    assert_eq!(t[0], t[1]);
    assert_eq!(t[2], "Received block <*> of size <*> from <*>");
    assert_eq!(t[2], t[3]);
    assert_eq!(t[4], "<*>:<*> Served block <*> to <*>");
    assert_eq!(
        t[5],
        "Container complete event for unknown container id <*>"
    );
    assert_eq!(t[5], t[6]);
    assert_eq!(
        t[7],
        "Finished task <*> in stage <*> (TID <*>). <*> bytes result sent to driver"
    );
    assert_eq!(t[7], t[8]);
    assert_eq!(t[9], "Received connection request <*>:<*>");
    assert_eq!(t[9], t[10]);
    assert_eq!(t[11], "generating core.<*>");
    assert_eq!(t[11], t[12]);
    assert_eq!(g.patterns.len(), 7);
}

#[test]
fn words_that_take_few_values_are_different_events() {
    let lines = [
        "attempt_1 TaskAttempt Transitioned from NEW to UNASSIGNED",
        "attempt_2 TaskAttempt Transitioned from NEW to UNASSIGNED",
        "attempt_3 TaskAttempt Transitioned from RUNNING to FAILED",
        "attempt_4 TaskAttempt Transitioned from RUNNING to SUCCEEDED",
        "state changed to LEADING",
        "state changed to FOLLOWING",
    ];
    let t = templates(&lines);
    assert_eq!(t.len(), 5, "{t:?}");
    assert!(t.contains(&(
        "<*> TaskAttempt Transitioned from NEW to UNASSIGNED".to_string(),
        2
    )));
}

#[test]
fn a_word_that_takes_many_values_is_a_variable() {
    let names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"];
    let lines: Vec<String> = names
        .iter()
        .map(|n| format!("user {n} logged in from web"))
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    assert_eq!(
        templates(&refs),
        vec![("user <*> logged in from web".to_string(), 7)]
    );
}

#[test]
fn ids_with_a_digit_merge_and_keep_their_common_prefix() {
    let t = templates(&[
        "lost node MININT-QWERTY5.corp.example.com",
        "lost node MININT-ASDFGH7.corp.example.com",
    ]);
    assert_eq!(
        t,
        vec![("lost node MININT-<*>.corp.example.com".to_string(), 2)]
    );
}

fn loki_lines(file: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/real/loki")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("recorded Loki response");
    let v: serde_json::Value = serde_json::from_str(&text).expect("Loki JSON");
    let mut lines = Vec::new();
    for stream in v["data"]["result"].as_array().expect("result") {
        for value in stream["values"].as_array().expect("values") {
            lines.push(value[1].as_str().expect("line").to_string());
        }
    }
    lines
}

/// Lines from the recorded Loki responses: JSON bodies (checkout), logfmt (frontend,
/// payments), each with its own trace id, duration and timestamp.
#[test]
fn recorded_loki_lines_group_into_a_few_patterns_without_ids() {
    let mut lines = Vec::new();
    for f in [
        "query_range_logs_json_parser_errors.json",
        "query_range_logs_logfmt_slow_frontend.json",
        "query_range_logs_forward_limit5.json",
        "query_range_logs_line_filter_traceid.json",
        "query_range_logs_logfmt_traceid_label_filter.json",
    ] {
        lines.extend(loki_lines(f));
    }
    assert!(lines.len() > 20, "{} lines", lines.len());
    let (g, a) = group(lines.iter().map(String::as_str));
    assert!(
        g.patterns.len() * 3 < lines.len(),
        "{} patterns for {} lines",
        g.patterns.len(),
        lines.len()
    );
    let hex32 = regex::Regex::new("[0-9a-f]{32}").expect("regex");
    for p in &g.patterns {
        assert!(
            !hex32.is_match(&p.template),
            "a trace id survived in {}",
            p.template
        );
        assert!(
            !p.template.contains("2026-11-21"),
            "a date survived in {}",
            p.template
        );
    }
    // Every checkout PoolTimeout line is one pattern that still reads as the error.
    let pool: Vec<&str> = lines
        .iter()
        .zip(&a)
        .filter(|(l, _)| l.contains("PoolTimeout") && l.starts_with('{'))
        .map(|(_, x)| template_of(&g, *x))
        .collect();
    assert!(pool.len() >= 2);
    assert!(pool.iter().all(|t| *t == pool[0]), "{pool:?}");
    assert!(
        pool[0].contains(r#""msg": "failed to persist order""#),
        "{}",
        pool[0]
    );
    assert!(
        pool[0].contains("QueuePool limit of size <*> overflow <*> reached"),
        "{}",
        pool[0]
    );
}

#[test]
fn stack_trace_lines_and_multi_line_bodies() {
    let t = templates(&[
        "\tat com.shop.orders.Repo.save(Repo.java:42)",
        "\tat com.shop.orders.Repo.save(Repo.java:118)",
        "java.lang.IllegalStateException: pool exhausted\n\tat a.B.c(B.java:1)\n\tat d.E.f(E.java:2)",
        "java.lang.IllegalStateException: pool exhausted\n\tat a.B.c(B.java:9)\n\tat d.E.f(E.java:7)",
    ]);
    assert_eq!(
        t,
        vec![
            ("at com.shop.orders.Repo.save(Repo.java:<*>)".to_string(), 2),
            (
                "java.lang.IllegalStateException: pool exhausted at a.B.c(B.java:<*>) at d.E.f(E.java:<*>)"
                    .to_string(),
                2
            ),
        ]
    );
}

#[test]
fn a_ten_megabyte_line_is_templated_on_its_head_and_said_to_be_cut() {
    let mut line = String::from("payload dump ");
    while line.len() < 10 * 1024 * 1024 {
        line.push_str("abc=1234 ");
    }
    let mut t = Templater::new(Options::default());
    let a = t.add(line.as_bytes());
    let g = t.finish();
    assert_eq!(g.truncated_lines, 1);
    let p = g.pattern(a).expect("a pattern");
    assert!(p.template.starts_with("payload dump abc=<*> abc=<*>"));
    assert!(
        p.template.ends_with(mask::TRUNCATED),
        "{}",
        &p.template[p.template.len() - 20..]
    );
    assert!(p.template.len() <= Options::default().max_line_bytes + 8);
    assert!(p.example.len() <= Options::default().example_bytes + 4);
}

#[test]
fn non_utf8_bytes_empty_lines_and_binary_garbage() {
    let mut t = Templater::new(Options::default());
    let bad = t.add(b"read \xff\xfe\x00 failed on fd 7");
    let also = t.add(b"read \x80\x81 failed on fd 9");
    let empty = t.add(b"");
    let blank = t.add(b"   \t ");
    // Deterministic garbage: every byte value, in many lines.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..2000 {
        let garbage: Vec<u8> = (0..200)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let _ = t.add(&garbage);
    }
    let g = t.finish();
    assert_eq!(template_of(&g, bad), "read <*> failed on fd <*>");
    assert_eq!(g.pattern_index(bad), g.pattern_index(also));
    assert_eq!(empty, Assigned::Empty);
    assert_eq!(blank, Assigned::Empty);
    assert_eq!(g.empty_lines, 2);
    assert_eq!(g.lines, 2004);
    for p in &g.patterns {
        assert!(
            !p.template.chars().any(|c| c.is_control()),
            "{:?}",
            p.template
        );
    }
}

#[test]
fn the_pattern_cap_bounds_memory_and_counts_what_did_not_fit() {
    let opts = Options {
        max_patterns: 100,
        ..Options::default()
    };
    let mut t = Templater::new(opts);
    // Distinct lines that masking cannot fold (no digits): spelled-out counters.
    let word = |mut n: usize| {
        let mut s = String::new();
        loop {
            s.push((b'a' + (n % 26) as u8) as char);
            n /= 26;
            if n == 0 {
                break s;
            }
        }
    };
    let mut overflow = 0;
    for i in 0..10_000 {
        let line = format!("{} {} {}", word(i), word(i * 7 + 3), word(i * 13 + 5));
        if t.add_str(&line) == Assigned::Overflow {
            overflow += 1;
        }
    }
    let g = t.finish();
    assert_eq!(g.overflow_lines, 9_900);
    assert_eq!(overflow, 9_900);
    assert!(g.patterns.len() <= 100);
    assert_eq!(g.patterns.iter().map(|p| p.count).sum::<u64>(), 100);
}

#[test]
fn the_order_of_lines_does_not_change_the_patterns_and_ids_are_stable() {
    let lines = [
        "conn 12 closed by peer 10.0.0.1",
        "user carol deleted item 7",
        "conn 99 closed by peer 10.0.0.2",
        "cache miss for key k42",
        "user bob deleted item 3",
    ];
    let mut reversed = lines;
    reversed.reverse();
    let mut a = templates(&lines);
    let mut b = templates(&reversed);
    a.sort();
    b.sort();
    assert_eq!(a, b);
    let (g, _) = group(lines.iter().copied());
    let p = &g.patterns[0];
    assert_eq!(p.id, pattern_id(&p.template));
    assert_eq!(p.id.len(), 12);
    assert_eq!(pattern_id("x <*>"), pattern_id("x <*>"));
    assert_ne!(pattern_id("x <*>"), pattern_id("y <*>"));
}

#[test]
fn patterns_are_sorted_by_count_and_keep_the_first_line_as_example() {
    let (g, _) = group(["b 1", "a x", "b 2", "b 3"]);
    assert_eq!(g.patterns[0].template, "b <*>");
    assert_eq!(g.patterns[0].count, 3);
    assert_eq!(g.patterns[0].example, "b 1");
    assert_eq!(g.patterns[1].template, "a x");
}
