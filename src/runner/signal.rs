//! Where a run hears that it should stop. The run takes its interrupts as a parameter:
//! `rehearsal run` passes Ctrl-C and SIGTERM (Jenkins' abort); a test passes a channel
//! and interrupts by hand, so the grace period can be driven without signals.

use tokio::sync::mpsc;

/// The interrupts a run hears, one after another.
pub struct Interrupts(mpsc::UnboundedReceiver<()>);

impl Interrupts {
    /// Ctrl-C (SIGINT) and SIGTERM. The handlers are installed now, once for the whole run,
    /// so no signal falls between two waits; create this right before the run.
    pub fn from_signals() -> Interrupts {
        use tokio::signal::unix::{signal, SignalKind};
        let (tx, interrupts) = Interrupts::channel();
        // A signal that cannot be listened to never comes.
        let mut int = signal(SignalKind::interrupt()).ok();
        let mut term = signal(SignalKind::terminate()).ok();
        tokio::spawn(async move {
            let next = async |s: &mut Option<tokio::signal::unix::Signal>| match s {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            };
            loop {
                let heard = tokio::select! {
                    heard = next(&mut int) => heard,
                    heard = next(&mut term) => heard,
                };
                if heard.is_none() || tx.send(()).is_err() {
                    break;
                }
            }
        });
        interrupts
    }

    /// Interrupts sent by hand: each `send(())` is one.
    pub fn channel() -> (mpsc::UnboundedSender<()>, Interrupts) {
        let (tx, rx) = mpsc::unbounded_channel();
        (tx, Interrupts(rx))
    }

    /// The next interrupt; never, once no more can come.
    pub async fn next(&mut self) {
        if self.0.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
    }
}
