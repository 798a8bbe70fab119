//! Connections: how many each receiver keeps open, and how long one may stay silent.
//!
//! Owns accepting. [`Acceptor::accept`] takes a slot of the receiver's connection cap *before*
//! it accepts, so past the cap new connections wait in the kernel's listen backlog (a log line
//! says so) instead of costing a file descriptor and a task each. Every accepted socket is a
//! [`Capped`] stream that gives its slot back when the connection closes and fails its reads
//! with `TimedOut` when the peer sends nothing for the idle timeout, which closes connections
//! that never send a request, idle keep-alive connections, and stalled bodies alike.
//! It knows nothing of HTTP or gRPC: the protocol timeouts (headers, body deadline, HTTP/2
//! keep-alive pings) are set where each server is built.

use std::future::Future as _;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use super::Transport;
use super::throttle::Throttle;

/// Counters of one receiver's connections, for `/metrics`.
#[derive(Debug, Default)]
pub struct ConnectionStats {
    pub accepted: AtomicU64,
    pub open: AtomicU64,
    /// Connections closed because the peer sent nothing for the idle timeout.
    pub idle_closed: AtomicU64,
    /// Times a new connection had to wait because the cap was reached.
    pub cap_waits: AtomicU64,
    pub cap: AtomicU64,
}

/// Accepts connections on one listener within a cap.
pub(crate) struct Acceptor {
    listener: TcpListener,
    transport: Transport,
    slots: Arc<Semaphore>,
    cap: usize,
    idle_timeout: Duration,
    stats: Arc<ConnectionStats>,
    at_cap_log: Throttle,
    error_log: Throttle,
}

impl Acceptor {
    pub(crate) fn new(
        listener: TcpListener,
        transport: Transport,
        cap: usize,
        idle_timeout: Duration,
        stats: Arc<ConnectionStats>,
    ) -> Acceptor {
        let cap = cap.max(1);
        stats.cap.store(cap as u64, Relaxed);
        Acceptor {
            listener,
            transport,
            slots: Arc::new(Semaphore::new(cap)),
            cap,
            idle_timeout,
            stats,
            at_cap_log: Throttle::new(Duration::from_secs(10)),
            error_log: Throttle::new(Duration::from_secs(10)),
        }
    }

    /// The next connection, once there is room for it under the cap.
    pub(crate) async fn accept(&self) -> (Capped<TcpStream>, SocketAddr) {
        let permit = match Arc::clone(&self.slots).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                self.stats.cap_waits.fetch_add(1, Relaxed);
                if let Some(suppressed) = self.at_cap_log.ready() {
                    tracing::warn!(
                        transport = self.transport.name(),
                        "{} connections are open, the cap (--max-connections): new connections wait until one closes{}",
                        self.cap,
                        suppressed_note(suppressed)
                    );
                }
                // The semaphore is never closed.
                match Arc::clone(&self.slots).acquire_owned().await {
                    Ok(permit) => permit,
                    Err(_) => std::future::pending().await,
                }
            }
        };
        loop {
            match self.listener.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    self.stats.accepted.fetch_add(1, Relaxed);
                    self.stats.open.fetch_add(1, Relaxed);
                    let stream =
                        Capped::new(stream, permit, self.idle_timeout, Arc::clone(&self.stats));
                    return (stream, addr);
                }
                Err(e) => {
                    // Out of file descriptors (EMFILE), or a connection reset before it was
                    // accepted: wait a little rather than spin, and say so now and then.
                    if let Some(suppressed) = self.error_log.ready() {
                        tracing::warn!(
                            transport = self.transport.name(),
                            "cannot accept a connection: {e}{}; if this says too many open files, raise the open-file limit (ulimit -n) or lower --max-connections",
                            suppressed_note(suppressed)
                        );
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

pub(crate) fn suppressed_note(suppressed: u64) -> String {
    if suppressed == 0 {
        String::new()
    } else {
        format!(" ({suppressed} more like this since the last such line)")
    }
}

/// A connection holding one slot of its receiver's cap, closed by its first read after
/// `idle_timeout` without a byte from the peer.
///
/// A read that brings bytes only notes the time; the timer is moved when it fires early (the
/// peer sent something since it was set), so a busy connection re-arms it about once per
/// `idle_timeout` rather than at every read.
pub struct Capped<S> {
    inner: S,
    _slot: OwnedSemaphorePermit,
    idle_timeout: Duration,
    idle: Pin<Box<Sleep>>,
    /// When the peer last sent a byte.
    last_read: Instant,
    stats: Arc<ConnectionStats>,
}

impl<S> Capped<S> {
    fn new(
        inner: S,
        slot: OwnedSemaphorePermit,
        idle_timeout: Duration,
        stats: Arc<ConnectionStats>,
    ) -> Capped<S> {
        Capped {
            inner,
            _slot: slot,
            idle_timeout,
            idle: Box::pin(tokio::time::sleep(idle_timeout)),
            last_read: Instant::now(),
            stats,
        }
    }
}

impl<S> Drop for Capped<S> {
    fn drop(&mut self) {
        self.stats.open.fetch_sub(1, Relaxed);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Capped<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    this.last_read = Instant::now();
                }
                Poll::Ready(result)
            }
            Poll::Pending => loop {
                match this.idle.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(()) => {
                        let deadline = this.last_read + this.idle_timeout;
                        if deadline > this.idle.deadline() {
                            // Bytes came after the timer was set: it counts from them.
                            this.idle.as_mut().reset(deadline);
                            continue;
                        }
                        this.stats.idle_closed.fetch_add(1, Relaxed);
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!(
                                "nothing received for {}s: connection closed",
                                this.idle_timeout.as_secs()
                            ),
                        )));
                    }
                }
            },
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Capped<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

impl tonic::transport::server::Connected for Capped<TcpStream> {
    type ConnectInfo = tonic::transport::server::TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}
