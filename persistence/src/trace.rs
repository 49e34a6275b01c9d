//! The W3C trace context (`traceparent`) of the request a piece of database
//! work serves, carried from the request's task to the thread that runs the
//! work (the blocking pool, or SQLite's writer thread), so that what the
//! work records (a webhook delivery) can name the trace it belongs to.
//! Ids only: a trace context holds no personal data.

use std::cell::RefCell;
use std::future::Future;

tokio::task_local! {
    static TASK: String;
}

thread_local! {
    static THREAD: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `work` with `traceparent` as the trace context of the database work
/// it starts.
pub async fn scope<F: Future>(traceparent: String, work: F) -> F::Output {
    TASK.scope(traceparent, work).await
}

/// The trace context of the work running here, if any.
pub fn current() -> Option<String> {
    THREAD
        .with(|thread| thread.borrow().clone())
        .or_else(|| TASK.try_with(Clone::clone).ok())
}

/// Sets this thread's trace context until the guard is dropped.
pub(crate) fn enter(traceparent: Option<String>) -> Entered {
    let previous = THREAD.with(|thread| thread.replace(traceparent));
    Entered { previous }
}

/// Restores the thread's previous trace context when dropped.
#[derive(Debug)]
pub(crate) struct Entered {
    previous: Option<String>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        THREAD.with(|thread| *thread.borrow_mut() = previous);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_context_is_restored_after_use() {
        assert_eq!(current(), None);
        {
            let _outer = enter(Some("a".into()));
            {
                let _inner = enter(Some("b".into()));
                assert_eq!(current().as_deref(), Some("b"));
            }
            assert_eq!(current().as_deref(), Some("a"));
        }
        assert_eq!(current(), None);
    }
}
