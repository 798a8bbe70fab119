//! The simulated shop: four services (frontend → checkout → payments, inventory; checkout →
//! postgres) instrumented with the OpenTelemetry SDK exactly as an application would be, each
//! with its own resource and its own OTLP/gRPC exporters aimed at the demo's sink.
//!
//! Time is real but short: one tick is half a second, and each tick's requests get span and
//! log timestamps spread over that tick, with simulated durations. Metrics are the SDK's own:
//! every tick ends with a `force_flush`, so each tick is one exported (cumulative) sample, and
//! histogram measurements made inside a sampled span carry that span as an exemplar.
//!
//! The fault: from [`Plan::fault_tick`] a slow query leaks connections of checkout's `orders`
//! pool, which saturates within a second; about a second later checkout requests start
//! timing out waiting for a connection, and frontend answers 502 for them.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::{Gauge, Histogram, MeterProvider as _};
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{
    SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

/// The shape of one run.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub tick: Duration,
    /// Ticks of normal traffic before the investigation window (the baseline).
    pub baseline_ticks: u32,
    /// Ticks in the investigation window.
    pub window_ticks: u32,
    /// The tick at which the pool starts leaking (counted from the first tick).
    pub fault_tick: u32,
    /// The tick at which the leaking query is killed and the pool recovers.
    pub fault_end_tick: u32,
    /// Requests per tick at the frontend.
    pub requests_per_tick: u32,
    pub pool_size: u32,
}

impl Default for Plan {
    fn default() -> Plan {
        Plan {
            tick: Duration::from_millis(500),
            baseline_ticks: 20,
            window_ticks: 34,
            fault_tick: 30,
            fault_end_tick: 46,
            requests_per_tick: 8,
            pool_size: 20,
        }
    }
}

impl Plan {
    pub fn total_ticks(&self) -> u32 {
        self.baseline_ticks + self.window_ticks
    }
}

/// When things happened, in wall-clock time.
#[derive(Debug, Clone, Copy)]
pub struct Timeline {
    pub start: SystemTime,
    pub window_start: SystemTime,
    pub fault: SystemTime,
    /// When the leaking query was killed and the pool recovered.
    pub fault_end: SystemTime,
    pub end: SystemTime,
    /// Requests the frontend answered with an error.
    pub failed_requests: u64,
    pub requests: u64,
}

/// A small deterministic generator (xorshift*), so every run tells the same story.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }
}

/// One instrumented service: its providers and instruments.
struct Service {
    tracer_provider: SdkTracerProvider,
    logger_provider: SdkLoggerProvider,
    meter_provider: SdkMeterProvider,
    tracer: SdkTracer,
    logger: SdkLogger,
    duration: Histogram<f64>,
    cpu: Gauge<f64>,
}

impl Service {
    fn new(name: &'static str, grpc_url: &str) -> anyhow::Result<Service> {
        let timeout = Duration::from_secs(10);
        let spans = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(grpc_url)
            .with_timeout(timeout)
            .build()?;
        let logs = opentelemetry_otlp::LogExporter::builder()
            .with_tonic()
            .with_endpoint(grpc_url)
            .with_timeout(timeout)
            .build()?;
        let metrics = opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .with_endpoint(grpc_url)
            .with_timeout(timeout)
            .build()?;
        let resource = Resource::builder()
            .with_service_name(name)
            .with_attribute(KeyValue::new("service.namespace", "shop"))
            .with_attribute(KeyValue::new("service.instance.id", format!("{name}-1")))
            .with_attribute(KeyValue::new("deployment.environment.name", "demo"))
            .build();
        let tracer_provider = SdkTracerProvider::builder()
            .with_batch_exporter(spans)
            .with_resource(resource.clone())
            .build();
        let logger_provider = SdkLoggerProvider::builder()
            .with_batch_exporter(logs)
            .with_resource(resource.clone())
            .build();
        // The periodic reader's own interval (60 s) never fires: the simulation flushes once
        // per tick, so each tick is exactly one sample.
        let meter_provider = SdkMeterProvider::builder()
            .with_periodic_exporter(metrics)
            .with_resource(resource)
            .build();
        let tracer = tracer_provider.tracer("obs-demo");
        let logger = logger_provider.logger("obs-demo");
        let meter = meter_provider.meter("obs-demo");
        let duration = meter
            .f64_histogram("http.server.request.duration")
            .with_unit("s")
            .with_description("Duration of HTTP server requests.")
            .with_boundaries(vec![
                0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
            ])
            .build();
        let cpu = meter
            .f64_gauge("process.cpu.utilization")
            .with_unit("1")
            .with_description("CPU used by the process, as a fraction of one core.")
            .build();
        Ok(Service {
            tracer_provider,
            logger_provider,
            meter_provider,
            tracer,
            logger,
            duration,
            cpu,
        })
    }

    fn flush(&self) -> anyhow::Result<()> {
        self.tracer_provider.force_flush()?;
        self.logger_provider.force_flush()?;
        self.meter_provider.force_flush()?;
        Ok(())
    }

    fn shutdown(&self) -> anyhow::Result<()> {
        self.flush()?;
        self.tracer_provider.shutdown()?;
        self.logger_provider.shutdown()?;
        self.meter_provider.shutdown()?;
        Ok(())
    }

    /// A log record in the current span of `cx`, at `at`.
    fn log(&self, cx: &Context, at: SystemTime, severity: Severity, body: String) {
        let _attached = cx.clone().attach();
        let mut record = self.logger.create_log_record();
        record.set_timestamp(at);
        record.set_observed_timestamp(at);
        record.set_severity_number(severity);
        record.set_severity_text(match severity {
            Severity::Error => "ERROR",
            Severity::Warn => "WARN",
            _ => "INFO",
        });
        record.set_body(AnyValue::from(body));
        self.logger.emit(record);
    }

    /// Records a request's duration inside its server span, so the SDK keeps the span as an
    /// exemplar.
    fn record(&self, cx: &Context, seconds: f64, route: &'static str, status: u16) {
        let _attached = cx.clone().attach();
        self.duration.record(
            seconds,
            &[
                KeyValue::new("http.request.method", "POST"),
                KeyValue::new("http.route", route),
                KeyValue::new("http.response.status_code", i64::from(status)),
            ],
        );
    }
}

/// W3C trace context headers, as a service puts them on an outgoing request.
fn inject(cx: &Context) -> HashMap<String, String> {
    let mut headers = HashMap::new();
    TraceContextPropagator::new().inject_context(cx, &mut headers);
    headers
}

/// The parent context a service reads from an incoming request's headers.
fn extract(headers: &HashMap<String, String>) -> Context {
    TraceContextPropagator::new().extract(headers)
}

fn ms(d: f64) -> Duration {
    Duration::from_secs_f64(d.max(0.0) / 1000.0)
}

struct Shop {
    frontend: Service,
    checkout: Service,
    payments: Service,
    inventory: Service,
    pool_in_use: Gauge<f64>,
    pool_max: Gauge<f64>,
    retry_queue: Gauge<f64>,
    flag: Gauge<f64>,
    disk: Gauge<f64>,
}

/// What one downstream call returned.
struct Answer {
    status: u16,
    took_ms: f64,
}

impl Shop {
    fn new(grpc_url: &str) -> anyhow::Result<Shop> {
        let frontend = Service::new("frontend", grpc_url)?;
        let checkout = Service::new("checkout", grpc_url)?;
        let payments = Service::new("payments", grpc_url)?;
        let inventory = Service::new("inventory", grpc_url)?;
        let meter = checkout.meter_provider.meter("obs-demo");
        let pool_in_use = meter
            .f64_gauge("db.client.connection.count")
            .with_unit("{connection}")
            .with_description("Connections of the pool in use.")
            .build();
        let pool_max = meter
            .f64_gauge("db.client.connection.max")
            .with_unit("{connection}")
            .with_description("The most connections the pool allows.")
            .build();
        let retry_queue = frontend
            .meter_provider
            .meter("obs-demo")
            .f64_gauge("shop.retry.queue.depth")
            .with_unit("{request}")
            .with_description("Failed requests waiting to be retried.")
            .build();
        let flag = inventory
            .meter_provider
            .meter("obs-demo")
            .f64_gauge("shop.feature.new_search")
            .with_unit("1")
            .with_description("Whether the new search feature flag is on.")
            .build();
        let disk = payments
            .meter_provider
            .meter("obs-demo")
            .f64_gauge("system.filesystem.usage")
            .with_unit("By")
            .with_description("Bytes used on the data volume.")
            .build();
        Ok(Shop {
            frontend,
            checkout,
            payments,
            inventory,
            pool_in_use,
            pool_max,
            retry_queue,
            flag,
            disk,
        })
    }

    fn services(&self) -> [&Service; 4] {
        [
            &self.frontend,
            &self.checkout,
            &self.payments,
            &self.inventory,
        ]
    }

    /// A leaf service (payments or inventory) answering one call.
    fn leaf(
        service: &Service,
        headers: &HashMap<String, String>,
        name: &'static str,
        route: &'static str,
        at: SystemTime,
        took_ms: f64,
        fails: bool,
    ) -> Answer {
        let parent = extract(headers);
        let status: u16 = if fails { 503 } else { 200 };
        let span = service
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Server)
            .with_start_time(at)
            .with_attributes([
                KeyValue::new("http.request.method", "POST"),
                KeyValue::new("http.route", route),
                KeyValue::new("http.response.status_code", i64::from(status)),
            ])
            .start_with_context(&service.tracer, &parent);
        let cx = parent.with_span(span);
        if fails {
            cx.span()
                .set_status(Status::error("reservation conflict, try again"));
            service.log(
                &cx,
                at + ms(took_ms),
                Severity::Error,
                "reservation conflict on sku 4711; answered 503".into(),
            );
        }
        service.record(&cx, took_ms / 1000.0, route, status);
        cx.span().end_with_timestamp(at + ms(took_ms));
        Answer { status, took_ms }
    }

    /// Checkout: a database query on the `orders` pool, then payments and inventory.
    fn checkout(
        &self,
        headers: &HashMap<String, String>,
        at: SystemTime,
        pressure: f64,
        conflict: bool,
        rng: &mut Rng,
    ) -> Answer {
        let svc = &self.checkout;
        let parent = extract(headers);
        let span = svc
            .tracer
            .span_builder("POST /api/checkout")
            .with_kind(SpanKind::Server)
            .with_start_time(at)
            .with_attributes([
                KeyValue::new("http.request.method", "POST"),
                KeyValue::new("http.route", "/api/checkout"),
            ])
            .start_with_context(&svc.tracer, &parent);
        let cx = parent.with_span(span);
        let mut t = 1.0;
        // The database: a connection from the pool, then the query.
        let times_out = rng.chance(0.5 * pressure);
        let db_ms = if times_out {
            rng.range(900.0, 1300.0)
        } else if pressure > 0.0 {
            rng.range(100.0, 100.0 + 500.0 * pressure)
        } else {
            rng.range(4.0, 18.0)
        };
        let db_start = at + ms(t);
        let db = svc
            .tracer
            .span_builder("SELECT orders")
            .with_kind(SpanKind::Client)
            .with_start_time(db_start)
            .with_attributes([
                KeyValue::new("db.system.name", "postgresql"),
                KeyValue::new("db.namespace", "shop"),
                KeyValue::new("db.operation.name", "SELECT"),
                KeyValue::new("db.collection.name", "orders"),
                KeyValue::new("server.address", "postgres"),
                KeyValue::new("db.client.connection.pool.name", "orders"),
            ])
            .start_with_context(&svc.tracer, &cx);
        let db_cx = cx.with_span(db);
        t += db_ms;
        if times_out {
            let message = format!(
                "timeout acquiring a connection from pool orders after {db_ms:.0}ms (in use 20/20)"
            );
            db_cx.span().set_status(Status::error(message.clone()));
            db_cx.span().add_event(
                "exception",
                vec![
                    KeyValue::new("exception.type", "PoolTimeoutError"),
                    KeyValue::new("exception.message", message.clone()),
                ],
            );
            svc.log(&db_cx, at + ms(t), Severity::Error, message);
            db_cx.span().end_with_timestamp(at + ms(t));
            cx.span()
                .set_attribute(KeyValue::new("http.response.status_code", 500));
            cx.span().set_status(Status::error("database unavailable"));
            t += 0.5;
            svc.record(&cx, t / 1000.0, "/api/checkout", 500);
            svc.log(
                &cx,
                at + ms(t),
                Severity::Error,
                "checkout failed: database unavailable".into(),
            );
            cx.span().end_with_timestamp(at + ms(t));
            return Answer {
                status: 500,
                took_ms: t,
            };
        }
        if pressure > 0.0 {
            svc.log(
                &db_cx,
                at + ms(t),
                Severity::Warn,
                format!("slow connection acquire from pool orders: {db_ms:.0}ms"),
            );
        }
        db_cx.span().end_with_timestamp(at + ms(t));
        let out = inject(&cx);
        let pay = Shop::leaf(
            &self.payments,
            &out,
            "POST /api/charge",
            "/api/charge",
            at + ms(t + 0.5),
            rng.range(20.0, 45.0),
            false,
        );
        t += pay.took_ms + 1.0;
        let inv = Shop::leaf(
            &self.inventory,
            &out,
            "POST /api/reserve",
            "/api/reserve",
            at + ms(t),
            rng.range(5.0, 15.0),
            conflict,
        );
        t += inv.took_ms + 1.0;
        if inv.status >= 500 {
            cx.span()
                .set_attribute(KeyValue::new("http.response.status_code", 500));
            cx.span()
                .set_status(Status::error("inventory answered 503"));
            svc.record(&cx, t / 1000.0, "/api/checkout", 500);
            svc.log(
                &cx,
                at + ms(t),
                Severity::Error,
                "checkout failed: inventory answered 503".into(),
            );
            cx.span().end_with_timestamp(at + ms(t));
            return Answer {
                status: 500,
                took_ms: t,
            };
        }
        cx.span()
            .set_attribute(KeyValue::new("http.response.status_code", 200));
        svc.record(&cx, t / 1000.0, "/api/checkout", 200);
        if rng.chance(0.3) {
            svc.log(&cx, at + ms(t), Severity::Info, "order placed".into());
        }
        cx.span().end_with_timestamp(at + ms(t));
        Answer {
            status: 200,
            took_ms: t,
        }
    }

    /// One request at the frontend; returns whether it failed.
    fn request(&self, at: SystemTime, pressure: f64, conflict: bool, rng: &mut Rng) -> bool {
        let svc = &self.frontend;
        let span = svc
            .tracer
            .span_builder("POST /checkout")
            .with_kind(SpanKind::Server)
            .with_start_time(at)
            .with_attributes([
                KeyValue::new("http.request.method", "POST"),
                KeyValue::new("http.route", "/checkout"),
            ])
            .start_with_context(&svc.tracer, &Context::new());
        let cx = Context::new().with_span(span);
        let answer = self.checkout(&inject(&cx), at + ms(2.0), pressure, conflict, rng);
        let took = answer.took_ms + 3.0;
        let failed = answer.status >= 500;
        let status = if failed { 502 } else { 200 };
        cx.span().set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(status),
        ));
        if failed {
            cx.span().set_status(Status::error("checkout answered 500"));
            svc.log(
                &cx,
                at + ms(took),
                Severity::Error,
                "upstream checkout answered 500; queued the order for retry".into(),
            );
        }
        svc.record(&cx, took / 1000.0, "/checkout", status);
        cx.span().end_with_timestamp(at + ms(took));
        failed
    }
}

/// Runs the shop against the sink at `grpc_url` for the whole plan. Blocking (the SDK's
/// flushes wait for the exports): call it on a blocking thread inside a tokio runtime, which
/// the gRPC exporters need.
pub fn run(plan: &Plan, grpc_url: &str) -> anyhow::Result<Timeline> {
    let shop = Shop::new(grpc_url)?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let start = SystemTime::now();
    let clock = Instant::now();
    let at_tick = |tick: u32| start + plan.tick * tick;
    let mut in_use;
    let mut retry = 0.0_f64;
    let mut failures = std::collections::VecDeque::new();
    let mut cpu = [0.30_f64, 0.40, 0.25, 0.20];
    let mut requests = 0;
    let mut failed_requests = 0;
    for tick in 0..plan.total_ticks() {
        let tick_start = at_tick(tick);
        let leaking = tick >= plan.fault_tick && tick < plan.fault_end_tick;
        // The leaking query holds every connection from the fault until it is killed.
        // Requests queued for a connection start timing out a second later, and stop a second
        // after the pool is free again: the pool leads the errors both ways.
        let size = f64::from(plan.pool_size);
        in_use = if leaking {
            size
        } else {
            (6.0 + rng.range(-1.5, 1.5)).round()
        };
        let lead = 2;
        let pressure = if tick >= plan.fault_tick + lead && tick < plan.fault_end_tick + lead {
            1.0
        } else {
            0.0
        };
        let mut failed_now = 0u32;
        for i in 0..plan.requests_per_tick {
            let offset = plan
                .tick
                .mul_f64(f64::from(i) / f64::from(plan.requests_per_tick));
            let jitter = Duration::from_micros((rng.next_f64() * 20_000.0) as u64);
            // A background of inventory conflicts (about 2%, the first one at once, so the
            // error series exist from the start as they would in a shop running for days).
            let conflict = (tick == 0 && i == 0) || rng.chance(0.02);
            if shop.request(tick_start + offset + jitter, pressure, conflict, &mut rng) {
                failed_now += 1;
            }
        }
        requests += u64::from(plan.requests_per_tick);
        failed_requests += u64::from(failed_now);
        // Failed orders reach the retry queue after a two-second backoff: it fills after the
        // errors, a consequence and not a cause.
        failures.push_back(f64::from(failed_now));
        let due_for_retry = if failures.len() > 4 {
            failures.pop_front().unwrap_or(0.0)
        } else {
            0.0
        };
        retry = retry * 0.8 + due_for_retry * 1.5;
        let pool = [KeyValue::new("db.client.connection.pool.name", "orders")];
        shop.pool_in_use.record(
            in_use,
            &[
                KeyValue::new("db.client.connection.pool.name", "orders"),
                KeyValue::new("db.client.connection.state", "used"),
            ],
        );
        shop.pool_max.record(f64::from(plan.pool_size), &pool);
        shop.retry_queue.record(retry, &[]);
        shop.flag.record(
            if tick >= plan.baseline_ticks / 2 {
                1.0
            } else {
                0.0
            },
            &[],
        );
        shop.disk
            .record(40e9 + f64::from(tick) * 12e6 + rng.range(0.0, 1e6), &[]);
        for (service, level) in shop.services().iter().zip(cpu.iter_mut()) {
            *level = (*level + rng.range(-0.03, 0.03)).clamp(0.05, 0.95);
            service.cpu.record(*level, &[]);
        }
        // Wait for the tick's end in wall-clock time, then export: one sample per tick.
        let due = plan.tick * (tick + 1);
        if let Some(wait) = due.checked_sub(clock.elapsed()) {
            std::thread::sleep(wait);
        }
        for service in shop.services() {
            service.flush()?;
        }
    }
    for service in shop.services() {
        service.shutdown()?;
    }
    Ok(Timeline {
        start,
        window_start: at_tick(plan.baseline_ticks),
        fault: at_tick(plan.fault_tick),
        fault_end: at_tick(plan.fault_end_tick),
        end: at_tick(plan.total_ticks()),
        failed_requests,
        requests,
    })
}
