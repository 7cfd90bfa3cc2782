//! Log capture for tests: one global subscriber (set once, so tracing's per-callsite interest
//! cache never sees a thread without one) writing into a per-thread buffer, so tests running
//! in parallel each read only their own lines.

use std::cell::RefCell;
use std::io::Write;
use std::sync::Once;

thread_local! {
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

struct ThreadBuffer;

impl Write for ThreadBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        BUFFER.with(|b| b.borrow_mut().extend_from_slice(buf));
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Starts capturing this thread's log lines (at every level), dropping earlier ones.
pub fn start() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .with_writer(|| ThreadBuffer)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
    BUFFER.with(|b| b.borrow_mut().clear());
}

/// Everything this thread logged since [`start`].
pub fn lines() -> String {
    BUFFER.with(|b| String::from_utf8_lossy(&b.borrow()).into_owned())
}
