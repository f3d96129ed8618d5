//! Starting a case's container when the engine may be away (restarted, say): a start
//! that fails while the engine does not answer waits for it (up to
//! [`Context::engine_wait`]), and a run whose engine stays away is marked so
//! ([`Context::engine_lost`]) and stops. This is the one piece of
//! state the cases of a run share; the dispatcher reads it after every case.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use super::step::StepError;
use super::Context;
use crate::backend::{Backend, ContainerConfig};

/// How often a waiting case asks the engine again.
const ENGINE_POLL: Duration = Duration::from_millis(500);

/// Starts the case's container. When the engine does not answer, waits for it up to the
/// run's engine wait and tries once more; a run whose engine stays away is marked so.
pub async fn start_container<B: Backend>(
    ctx: &Context<B>,
    config: &ContainerConfig,
) -> Result<String, StepError> {
    if ctx.engine_lost.load(Ordering::Relaxed) {
        return Err(StepError::EngineGone);
    }
    let err = match ctx.backend.start(config).await {
        Ok(id) => return Ok(id),
        Err(err) => err,
    };
    if ctx.backend.ping().await.is_ok() {
        return Err(StepError::Engine(err));
    }
    let wait = ctx.engine_wait;
    let clock = Instant::now();
    while clock.elapsed() < wait {
        tokio::time::sleep(ENGINE_POLL).await;
        if ctx.engine_lost.load(Ordering::Relaxed) {
            break;
        }
        if ctx.backend.ping().await.is_ok() {
            return Ok(ctx.backend.start(config).await?);
        }
    }
    ctx.engine_lost.store(true, Ordering::Relaxed);
    Err(StepError::EngineLost {
        waited: wait,
        source: err,
    })
}
