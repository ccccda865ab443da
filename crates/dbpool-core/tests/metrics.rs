//! The pool's metrics through the `metrics` facade, scraped from a Prometheus endpoint on
//! loopback while 8 threads use a pool of 4: the gauges add up (open = idle + in use), stay
//! within `max_size`, and the counters count.
#![cfg(feature = "metrics")]

#[path = "../examples/prometheus/serve.rs"]
mod serve;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;

use dbapi::{params, Connection};
use dbapi_sqlite::Sqlite;
use dbpool_core::Pool;
use metrics_exporter_prometheus::PrometheusBuilder;

fn scrape(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect to the endpoint");
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\n\r\n")
        .expect("request");
    let mut page = String::new();
    stream.read_to_string(&mut page).expect("response");
    page
}

/// The value of `metric` for the pool "orders".
fn value(page: &str, metric: &str) -> Option<f64> {
    page.lines()
        .find(|line| line.starts_with(&format!("{metric}{{")) && line.contains("pool=\"orders\""))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn a_scrape_under_load_adds_up() {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .expect("the only recorder of this test binary");
    let listener = TcpListener::bind("127.0.0.1:0").expect("loopback port");
    let addr = listener.local_addr().expect("address");
    serve::serve(listener, move || handle.render());

    let pool = Pool::builder(Sqlite::memory())
        .name("orders")
        .max_size(4)
        .metrics_interval(Duration::from_millis(5))
        .build()
        .expect("pool");
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                while !stop.load(SeqCst) {
                    let mut conn = pool.get().expect("get");
                    conn.execute("SELECT 1", &params![]).expect("query");
                }
            });
        }
        let mut checked = 0;
        while checked < 20 {
            let page = scrape(addr);
            let gauges = ["open", "idle", "in_use"]
                .map(|g| value(&page, &format!("dbpool_connections_{g}")));
            if let [Some(open), Some(idle), Some(in_use)] = gauges {
                assert_eq!(open, idle + in_use, "open = idle + in use:\n{page}");
                assert!(open <= 4.0, "within max_size:\n{page}");
                assert_eq!(value(&page, "dbpool_max_size"), Some(4.0));
                checked += 1;
            }
        }
        stop.store(true, SeqCst);
    });
    let page = scrape(addr);
    let created = value(&page, "dbpool_connections_created_total").expect("created counter");
    assert!((1.0..=4.0).contains(&created), "{page}");
    // One wait for sure: all four held, a fifth caller waits until one comes back.
    let held: Vec<_> = (0..4).map(|_| pool.get().expect("get")).collect();
    std::thread::scope(|scope| {
        let waiter = scope.spawn(|| drop(pool.get().expect("served")));
        while pool.waiting() == 0 {
            std::thread::yield_now();
        }
        drop(held);
        waiter.join().expect("waiter");
    });
    let page = scrape(addr);
    assert!(
        page.contains("dbpool_wait_seconds"),
        "the wait is in the histogram:\n{page}"
    );
}
