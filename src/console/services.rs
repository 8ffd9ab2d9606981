//! What runs beside the console in the same process (the engine, the
//! webhook receiver, the auto-investigation task) and stops with it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::WebhookConfig;
use crate::engine::EngineHandle;
use crate::investigate::Investigator;
use crate::secrets::Secret;
use crate::webhook::{ANOMALY_PATH, WebhookState, serve};
use crate::workflows::ModePolicy;

/// A stuck task must not keep the terminal from being given back for long.
const STOP_WAIT: Duration = Duration::from_secs(10);

/// The running webhook receiver.
pub struct Receiver {
    pub address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Receiver {
    /// Serves anomalies on `listener`, each becoming an investigation.
    pub fn start(
        listener: TcpListener,
        config: WebhookConfig,
        secret: Secret,
        investigator: Investigator,
        modes: ModePolicy,
    ) -> std::io::Result<Receiver> {
        let address = listener.local_addr()?;
        let state = Arc::new(WebhookState::new(config, secret, investigator, modes));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state, async {
            let _ = stopped.await;
        }));
        tracing::info!(%address, "webhook receiver started");
        Ok(Receiver {
            address,
            stop,
            task,
        })
    }

    /// `http://<address>/webhook/anomaly`.
    pub fn url(&self) -> String {
        format!("http://{}{ANOMALY_PATH}", self.address)
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        match tokio::time::timeout(STOP_WAIT, self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "webhook receiver stopped with an error"),
            Ok(Err(e)) => tracing::warn!(error = %e, "webhook receiver task failed"),
            Err(_) => tracing::warn!("webhook receiver did not stop in time"),
        }
    }
}

/// Everything to stop when the console closes.
pub struct Services {
    pub engine: EngineHandle,
    pub receiver: Option<Receiver>,
    /// Background tasks that end with the engine or can simply be dropped.
    pub tasks: Vec<JoinHandle<()>>,
}

impl Services {
    /// Stops the receiver, then the engine (releasing its lease), then the
    /// rest; each bounded by [`STOP_WAIT`].
    pub async fn stop(self) {
        if let Some(receiver) = self.receiver {
            receiver.stop().await;
        }
        if tokio::time::timeout(STOP_WAIT, self.engine.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("the engine did not stop in time");
        }
        for task in self.tasks {
            task.abort();
        }
    }
}
