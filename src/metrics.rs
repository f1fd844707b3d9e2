//! What Pintu counts for Prometheus: the only user of `prometheus-client`. One `Metrics` is
//! built in `app/` and handed to whoever observes something (the web layer's requests, the
//! audit recorder's sign-ins and tokens, the argon2 threads' queue); values that are cheaper
//! to read than to track (the database pool, the last LDAP sync) are set when scraped. The
//! text exposition format comes from the crate, not from here.

use std::collections::HashSet;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

// Request labels hold shared strings: counting a request allocates nothing (the route's
// pattern is interned once, the method is one of a fixed set).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// The route's pattern (`/account/login/{id}`), never the raw path: bounded cardinality.
    route: Arc<str>,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoginLabels {
    /// The first RFC 8176 method (`pwd`, `otp`, `hwk`, …), or `passkey` when refused before
    /// its kind was known.
    method: String,
    outcome: String,
    /// Why a sign-in failed (`invalid password`, `unknown account`, `throttled`, …); empty on
    /// success.
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrantLabels {
    grant_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LevelLabels {
    level: u8,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DirectoryLabels {
    directory: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric Pintu exposes. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    /// Route patterns seen, each allocated once.
    routes: RwLock<HashSet<Arc<str>>>,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily<RouteLabels>,
    logins: Family<LoginLabels, Counter>,
    step_ups: Family<LevelLabels, Counter>,
    lockouts: Counter,
    tokens: Family<GrantLabels, Counter>,
    audit_queue: Gauge,
    audit_batch: Histogram,
    hashing_queue: Gauge,
    db_connections: Gauge,
    db_idle: Gauge,
    ldap_last_sync: Family<DirectoryLabels, Gauge<f64, AtomicU64>>,
    ldap_last_sync_ok: Family<DirectoryLabels, Gauge>,
    ldap_reachable: Family<DirectoryLabels, Gauge>,
    backup_last_success: Gauge<f64, AtomicU64>,
    backup_last_run_ok: Gauge,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 8 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 14))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("pintu");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by route, method and status", requests.clone());
        let latency: HistogramFamily<RouteLabels> = Family::new_with_constructor(latency_histogram);
        registry.register("http_request_duration_seconds", "Time to answer, by route", latency.clone());
        let logins = Family::<LoginLabels, Counter>::default();
        registry.register(
            "logins",
            "Sign-in steps (password, second factor, passkey), by method and outcome",
            logins.clone(),
        );
        let step_ups = Family::<LevelLabels, Counter>::default();
        registry.register(
            "step_ups",
            "Sessions raised to a higher security level, by the level reached",
            step_ups.clone(),
        );
        let lockouts = Counter::default();
        registry.register(
            "lockouts",
            "Sign-in attempts refused because the name or address is locked out",
            lockouts.clone(),
        );
        let tokens = Family::<GrantLabels, Counter>::default();
        registry.register("tokens_issued", "Token responses, by grant type", tokens.clone());
        let audit_queue = Gauge::default();
        registry.register("audit_queue_events", "Audit events waiting for the writer", audit_queue.clone());
        let audit_batch = Histogram::new(exponential_buckets(1.0, 2.0, 9));
        registry.register("audit_batch_events", "Events per audit writer transaction", audit_batch.clone());
        let hashing_queue = Gauge::default();
        registry.register("argon2_queue_jobs", "Password hashing jobs waiting for a thread", hashing_queue.clone());
        let db_connections = Gauge::default();
        registry.register("db_pool_connections", "Open database connections", db_connections.clone());
        let db_idle = Gauge::default();
        registry.register("db_pool_idle_connections", "Idle database connections", db_idle.clone());
        let ldap_last_sync = Family::<DirectoryLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "ldap_last_sync_timestamp_seconds",
            "When the last LDAP sync run ended",
            ldap_last_sync.clone(),
        );
        let ldap_last_sync_ok = Family::<DirectoryLabels, Gauge>::default();
        registry.register(
            "ldap_last_sync_success",
            "1 when the last LDAP sync run was applied or a dry run",
            ldap_last_sync_ok.clone(),
        );
        let ldap_reachable = Family::<DirectoryLabels, Gauge>::default();
        registry.register(
            "ldap_reachable",
            "1 when the directory answered the last time Pintu asked",
            ldap_reachable.clone(),
        );
        let backup_last_success = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "backup_last_success_timestamp_seconds",
            "When the last backup that succeeded finished (unix seconds)",
            backup_last_success.clone(),
        );
        let backup_last_run_ok = Gauge::default();
        registry.register("backup_last_run_success", "1 when the last backup succeeded", backup_last_run_ok.clone());
        Self(Arc::new(Inner {
            registry,
            routes: RwLock::default(),
            requests,
            latency,
            logins,
            step_ups,
            lockouts,
            tokens,
            audit_queue,
            audit_batch,
            hashing_queue,
            db_connections,
            db_idle,
            ldap_last_sync,
            ldap_last_sync_ok,
            ldap_reachable,
            backup_last_success,
            backup_last_run_ok,
        }))
    }

    /// One answered request: `route` is the matched pattern (or `unmatched`).
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        // Any token is a valid HTTP method: outsiders must not be able to mint label values.
        let method = match method {
            "GET" => "GET",
            "HEAD" => "HEAD",
            "POST" => "POST",
            "PUT" => "PUT",
            "PATCH" => "PATCH",
            "DELETE" => "DELETE",
            "OPTIONS" => "OPTIONS",
            _ => "other",
        };
        let route = self.intern(route);
        self.0.latency.get_or_create(&RouteLabels { route: route.clone() }).observe(seconds);
        self.0.requests.get_or_create(&RequestLabels { route, method, status }).inc();
    }

    /// The shared copy of a route pattern (routes are a fixed set: the router's).
    fn intern(&self, route: &str) -> Arc<str> {
        if let Some(known) = self.0.routes.read().ok().and_then(|set| set.get(route).cloned()) {
            return known;
        }
        let new: Arc<str> = Arc::from(route);
        if let Ok(mut set) = self.0.routes.write() {
            set.insert(new.clone());
        }
        new
    }

    /// One sign-in step's outcome (`reason` empty on success).
    pub fn login(&self, method: &str, success: bool, reason: &str) {
        let outcome = if success { "success" } else { "failure" };
        let labels = LoginLabels { method: method.to_owned(), outcome: outcome.to_owned(), reason: reason.to_owned() };
        self.0.logins.get_or_create(&labels).inc();
        if reason == "throttled" {
            self.0.lockouts.inc();
        }
    }

    pub fn step_up(&self, level: u8) {
        self.0.step_ups.get_or_create(&LevelLabels { level }).inc();
    }

    pub fn token_issued(&self, grant_type: &str) {
        self.0.tokens.get_or_create(&GrantLabels { grant_type: grant_type.to_owned() }).inc();
    }

    pub fn audit_queue(&self, waiting: usize) {
        self.0.audit_queue.set(waiting as i64);
    }

    pub fn audit_batch(&self, events: usize) {
        self.0.audit_batch.observe(events as f64);
    }

    /// A hashing job entered (`true`) or left (`false`) the queue.
    pub fn hashing_queued(&self, entered: bool) {
        if entered {
            self.0.hashing_queue.inc();
        } else {
            self.0.hashing_queue.dec();
        }
    }

    pub fn db_pool(&self, connections: u32, idle: usize) {
        self.0.db_connections.set(i64::from(connections));
        self.0.db_idle.set(idle as i64);
    }

    /// A directory's last sync (`ended_at` unix seconds; `None`: never) and reachability.
    pub fn ldap(&self, directory: &str, ended_at: Option<i64>, succeeded: bool, reachable: bool) {
        let labels = DirectoryLabels { directory: directory.to_owned() };
        if let Some(at) = ended_at {
            self.0.ldap_last_sync.get_or_create(&labels).set(at as f64);
            self.0.ldap_last_sync_ok.get_or_create(&labels).set(i64::from(succeeded));
        }
        self.0.ldap_reachable.get_or_create(&labels).set(i64::from(reachable));
    }

    /// The last backup that succeeded (`None`: never) and whether the last one did.
    pub fn backup(&self, last_success_at: Option<i64>, last_succeeded: bool) {
        if let Some(at) = last_success_at {
            self.0.backup_last_success.set(at as f64);
        }
        self.0.backup_last_run_ok.set(i64::from(last_succeeded));
    }

    /// The exposition (Prometheus text format 0.0.4 / OpenMetrics text).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.0.registry).is_err() {
            text.clear();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_every_metric_with_its_labels() {
        let m = Metrics::new();
        m.request("/oauth2/token", "POST", 200, 0.004);
        m.login("pwd", false, "throttled");
        m.step_up(2);
        m.token_issued("authorization_code");
        m.ldap("kominfo", Some(1_800_000_000), true, false);
        m.request("/health", "BREW", 405, 0.0);
        let text = m.encode();
        assert!(
            text.contains(r#"route="/health",method="other",status="405""#),
            "made-up methods share one label: {text}"
        );
        for line in [
            r#"pintu_http_requests_total{route="/oauth2/token",method="POST",status="200"} 1"#,
            r#"pintu_logins_total{method="pwd",outcome="failure",reason="throttled"} 1"#,
            "pintu_lockouts_total 1",
            r#"pintu_step_ups_total{level="2"} 1"#,
            r#"pintu_tokens_issued_total{grant_type="authorization_code"} 1"#,
            r#"pintu_ldap_reachable{directory="kominfo"} 0"#,
            r#"pintu_ldap_last_sync_timestamp_seconds{directory="kominfo"} 1800000000.0"#,
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        assert!(
            text.contains("pintu_http_request_duration_seconds_bucket{le=\"0.004\",route=\"/oauth2/token\"} 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
