//! elect's patch: the connection and the timers run on the tokio runtime that runs the client's
//! tasks, instead of async-io's process-global reactor.
//!
//! async-io drives every socket and timer of the process from one global epoll instance and one
//! helper thread, both created on first use. After `fork()` the child has that epoll instance
//! (shared with the parent) but not the thread, so a child of a process that had used the client
//! could never connect. A tokio runtime built in the child has an epoll instance of its own.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

/// A TCP stream with the `futures` I/O traits the client is written against.
pub type TcpStream = Compat<tokio::net::TcpStream>;

/// Connects to `host:port`.
pub async fn connect(addr: (&str, u16)) -> std::io::Result<TcpStream> {
    Ok(tokio::net::TcpStream::connect(addr).await?.compat())
}

/// async-io's `Timer`, as far as the client uses it: a future that completes at an instant (with
/// that instant), never, or once per period (polled again after completing, it waits for the
/// next period).
pub enum Timer {
    Never,
    At(Pin<Box<tokio::time::Sleep>>),
    Every(tokio::time::Interval),
}

impl Timer {
    pub fn never() -> Timer {
        Timer::Never
    }

    pub fn at(deadline: Instant) -> Timer {
        Timer::At(Box::pin(tokio::time::sleep_until(deadline.into())))
    }

    pub fn after(duration: Duration) -> Timer {
        Timer::At(Box::pin(tokio::time::sleep(duration)))
    }

    /// First fires one period from now, as async-io's does.
    pub fn interval(period: Duration) -> Timer {
        let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Timer::Every(every)
    }
}

impl Future for Timer {
    type Output = Instant;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Instant> {
        match self.get_mut() {
            Timer::Never => Poll::Pending,
            Timer::At(sleep) => sleep.as_mut().poll(cx).map(|()| sleep.deadline().into_std()),
            Timer::Every(every) => every.poll_tick(cx).map(|at| at.into_std()),
        }
    }
}
