//! Serving the node's HTTP routes: binds the configured address, serves HTTPS
//! when a certificate is configured (plain HTTP otherwise, which validation
//! allows only on loopback unless the operator opted in), and shuts down
//! gracefully: stop accepting, let requests in flight finish, then return.

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::ServerConfig;
use crate::tls;

/// A bound listener, ready to serve.
pub struct Bound {
    listener: TcpListener,
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    local_addr: SocketAddr,
}

impl Bound {
    /// Loads the TLS files (if any) and binds the listening socket, so that every
    /// start-up error is reported before the node says it is serving.
    pub async fn bind(config: &ServerConfig) -> anyhow::Result<Bound> {
        let tls = match config.tls_files() {
            Some((cert, key)) => Some(tls::server_config(cert, key)?),
            None => None,
        };
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("[server] listen: cannot listen on {}", config.listen))?;
        let local_addr = listener.local_addr()?;
        Ok(Bound {
            listener,
            tls,
            local_addr,
        })
    }

    /// The base URL clients use, such as `https://127.0.0.1:8443`.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.local_addr)
    }

    /// Serves `app` until `shutdown` completes and every request in flight has finished.
    pub async fn serve(
        self,
        app: axum::Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let service = app.into_make_service();
        match self.tls {
            Some(config) => {
                let listener = tls::TlsListener::new(self.listener, config)?;
                axum::serve(listener, service)
                    .with_graceful_shutdown(shutdown)
                    .await?;
            }
            None => {
                axum::serve(self.listener, service)
                    .with_graceful_shutdown(shutdown)
                    .await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use tokio::sync::oneshot;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn finishes_a_request_in_flight_after_shutdown_begins() {
        // The handler waits until shutdown has been requested, then answers:
        // the response must still reach the client.
        let (entered_tx, entered_rx) = oneshot::channel::<()>();
        let (release_tx, release_rx) = oneshot::channel::<()>();
        let entered = std::sync::Mutex::new(Some(entered_tx));
        let release = std::sync::Mutex::new(Some(release_rx));
        let state = std::sync::Arc::new((entered, release));
        let app = axum::Router::new().route(
            "/slow",
            axum::routing::get(move || {
                let state = state.clone();
                async move {
                    let entered = state.0.lock().unwrap().take();
                    let release = state.1.lock().unwrap().take();
                    entered.unwrap().send(()).unwrap();
                    release.unwrap().await.unwrap();
                    "done"
                }
            }),
        );
        let config = ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..ServerConfig::default()
        };
        let bound = Bound::bind(&config).await.unwrap();
        let addr = bound.local_addr;
        assert!(bound.base_url().starts_with("http://127.0.0.1:"));
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(bound.serve(app, async {
            let _ = stop_rx.await;
        }));
        let client = tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream
                .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).unwrap();
            response
        });
        entered_rx.await.unwrap();
        stop_tx.send(()).unwrap();
        // Shutdown has begun once new connections are refused...
        while let Ok(probe) = tokio::net::TcpStream::connect(addr).await {
            drop(probe);
            tokio::task::yield_now().await;
        }
        release_tx.send(()).unwrap();
        let response = client.await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("done"), "{response}");
        // ...and the server returns once the request in flight is done.
        server.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_port_in_use_names_the_setting() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = ServerConfig {
            listen: taken.local_addr().unwrap(),
            ..ServerConfig::default()
        };
        let error = Bound::bind(&config).await.err().unwrap();
        assert!(
            format!("{error:#}").starts_with("[server] listen: cannot listen on 127.0.0.1:"),
            "{error:#}"
        );
    }
}
