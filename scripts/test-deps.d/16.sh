# Prometheus 2.42 and promtool: the PromQL parity tests and `cargo bench --bench promql`
# compare obs with a real Prometheus.
command -v prometheus >/dev/null && command -v promtool >/dev/null || apt-get install -y -qq prometheus
