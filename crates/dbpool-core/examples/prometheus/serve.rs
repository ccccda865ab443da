//! A loopback `/metrics` endpoint: the Prometheus text a render function returns, served
//! with the standard library (one connection at a time, which is all a scraper needs).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread::{self, JoinHandle};

/// Serves `render()` to every connection on `listener`, until the process ends.
pub fn serve(
    listener: TcpListener,
    render: impl Fn() -> String + Send + 'static,
) -> JoinHandle<()> {
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            // The request itself does not matter: every path is the metrics page.
            let mut request = [0_u8; 1024];
            let _ = stream.read(&mut request);
            let body = render();
            let _ = write!(
                stream,
                "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        }
    })
}
