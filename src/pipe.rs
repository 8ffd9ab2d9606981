//! One-shot commands end quietly when their reader goes away
//! (`soc-tui outbox list | head`), as Unix tools do, instead of panicking
//! in `println!` on the broken pipe.
//!
//! Rust ignores SIGPIPE for the whole process so that a write to a closed
//! socket is an error rather than death. Restoring the default is safe for
//! commands that print a result and exit: their network writes go through
//! `send(MSG_NOSIGNAL)`, which never raises the signal. The console, the demo,
//! the daemon and the webhook server keep Rust's default.

/// Lets SIGPIPE end the process, as it does for other command-line tools.
#[cfg(unix)]
pub fn die_quietly_on_closed_stdout() {
    // SAFETY: called once at start-up, before any thread exists; setting a
    // signal's disposition to its default has no other precondition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
pub fn die_quietly_on_closed_stdout() {}
