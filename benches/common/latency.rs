//! Latency summaries the in-process benches print: median, p95 and mean of milliseconds.

use serde_json::{Value, json};

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub fn summary(mut ms: Vec<f64>) -> Value {
    ms.sort_by(f64::total_cmp);
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    json!({ "rounds": ms.len(), "median_ms": percentile(&ms, 0.5), "p95_ms": percentile(&ms, 0.95), "mean_ms": mean })
}
