//! Training: losses, the objective and its penalties, metrics, and the
//! [`Trainer`], whose step (forward, loss, backward, optimizer update) runs
//! as one compiled MLX closure over flat arrays: the parameters and the
//! optimizer's state go in as arguments and come out as outputs.

mod divergence;
mod loss;
mod metrics;
mod objective;
mod optimizer_state;
mod resume;
mod step_times;
mod trainer;

pub use loss::{Loss, Reduction, Scores, loss_value};
pub use metrics::accuracy;
pub use objective::{Objective, Penalty, PenaltyKind};
pub use step_times::StepTimes;
pub use trainer::{StepOutput, Trainer};
