//! HTTPS: loads a PEM certificate chain and private key into a rustls
//! `ServerConfig`, and a listener that hands axum connections whose TLS
//! handshake is complete.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take to complete its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections whose handshake is done, waiting for the server to take them.
const READY_QUEUE: usize = 128;

/// Why the TLS certificate or key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file cannot be read or holds no certificate.
    #[error("[server] tls_cert: {}: {message}", path.display())]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The key file cannot be read or holds no private key.
    #[error("[server] tls_key: {}: {message}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// rustls refused the pair (for example, the key does not match the certificate).
    #[error("[server] tls_cert and tls_key: {0}")]
    Rejected(#[source] rustls::Error),
}

/// Builds the server's TLS configuration from PEM files (HTTP/1.1 over TLS 1.2 or 1.3).
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let cert_error = |message: String| TlsError::Certificate {
        path: cert.to_owned(),
        message,
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| cert_error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_error(e.to_string()))?;
    if chain.is_empty() {
        return Err(cert_error("no PEM certificate found".to_owned()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: key.to_owned(),
        message: match e {
            rustls::pki_types::pem::Error::NoItemsFound => "no PEM private key found".to_owned(),
            other => other.to_string(),
        },
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Rejected)?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(TlsError::Rejected)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A listener for `axum::serve` that accepts TCP connections and completes
/// their TLS handshakes concurrently, so a slow client never holds up others.
/// Dropping it closes the socket.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
    acceptor_task: JoinHandle<()>,
}

impl TlsListener {
    /// Starts accepting on `listener` with `config`.
    pub fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> io::Result<Self> {
        let local_addr = listener.local_addr()?;
        let (sender, ready) = mpsc::channel(READY_QUEUE);
        let acceptor = TlsAcceptor::from(config);
        let acceptor_task = tokio::spawn(accept_loop(listener, acceptor, sender));
        Ok(TlsListener {
            ready,
            local_addr,
            acceptor_task,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor_task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    sender: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = sender.closed() => return,
        };
        let acceptor = acceptor.clone();
        let sender = sender.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    // The server may be shutting down and no longer taking connections.
                    let _ = sender.send((tls, peer)).await;
                }
                Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(ready) => ready,
            // The accept loop never ends while this receiver lives; wait like an idle socket.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_pair(dir: &Path) -> (PathBuf, PathBuf, String) {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, certified.cert.pem()).unwrap();
        std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
        (cert, key, certified.cert.pem())
    }

    #[test]
    fn loads_a_certificate_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key, _) = write_pair(dir.path());
        server_config(&cert, &key).unwrap();
    }

    #[test]
    fn errors_name_the_setting_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key, _) = write_pair(dir.path());
        let missing = dir.path().join("missing.pem");
        let m = server_config(&missing, &key).unwrap_err().to_string();
        assert!(
            m.starts_with("[server] tls_cert: ") && m.contains("missing.pem"),
            "{m}"
        );
        let m = server_config(&cert, &missing).unwrap_err().to_string();
        assert!(
            m.starts_with("[server] tls_key: ") && m.contains("missing.pem"),
            "{m}"
        );
        // A certificate file given as the key, and the reverse.
        let m = server_config(&cert, &cert).unwrap_err().to_string();
        assert!(
            m.starts_with("[server] tls_key: ") && m.contains("no PEM private key"),
            "{m}"
        );
        let m = server_config(&key, &key).unwrap_err().to_string();
        assert!(
            m.starts_with("[server] tls_cert: ") && m.contains("no PEM certificate"),
            "{m}"
        );
        // A key that is not the certificate's.
        let other = dir.path().join("other");
        std::fs::create_dir(&other).unwrap();
        let (_, other_key, _) = write_pair(&other);
        let m = server_config(&cert, &other_key).unwrap_err().to_string();
        assert!(m.starts_with("[server] tls_cert and tls_key: "), "{m}");
    }

    #[tokio::test]
    async fn serves_https_to_a_client_that_trusts_the_certificate() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let dir = tempfile::tempdir().unwrap();
        let (cert, key, cert_pem) = write_pair(dir.path());
        let config = server_config(&cert, &key).unwrap();
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let listener = TlsListener::new(tcp, config).unwrap();
        let addr = listener.local_addr;
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
        let server = tokio::spawn(async move { axum::serve(listener, app).await });

        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap())
            .unwrap();
        let client = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let tcp = TcpStream::connect(addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut response = String::new();
        tls.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("hello"), "{response}");
        server.abort();
    }
}
