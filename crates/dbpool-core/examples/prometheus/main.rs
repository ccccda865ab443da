//! The pool's metrics on a Prometheus endpoint: `cargo run -p dbpool-core --example
//! prometheus --features metrics,sqlite`, then `curl http://127.0.0.1:9187/metrics` while it
//! runs (8 threads on a pool of 4 for 30 s).

mod serve;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use dbapi::{params, Connection};
use dbpool_core::{sqlite::Sqlite, Pool};
use metrics_exporter_prometheus::PrometheusBuilder;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let handle = PrometheusBuilder::new().install_recorder()?;
    let listener = TcpListener::bind("127.0.0.1:9187")?;
    println!("metrics on http://{}/metrics", listener.local_addr()?);
    serve::serve(listener, move || handle.render());

    let pool = Pool::builder(Sqlite::memory())
        .name("example")
        .max_size(4)
        .build()?;
    let until = Instant::now() + Duration::from_secs(30);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                while Instant::now() < until {
                    let mut conn = pool.get().expect("get");
                    conn.execute("SELECT 1", &params![]).expect("query");
                }
            });
        }
    });
    println!("{:?}", pool.stats());
    Ok(())
}
