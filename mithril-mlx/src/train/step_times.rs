//! [`StepTimes`]: where the host's time in a training step goes, phase by
//! phase, so a benchmark can tell the host's work from the device's.

use std::time::Duration;

/// Wall-clock time of each host-side phase of the last
/// [`Trainer::step`](super::Trainer::step). MLX is lazy: until `queue`,
/// nothing has run on the device, so `prepare + call`
/// ([`Self::until_queued`]) is host time that a synchronised training loop
/// cannot overlap with the previous step's device work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StepTimes {
    /// From entry to the step's call: the parameters and inputs flattened,
    /// their shapes compared with the last step's, the arguments gathered.
    pub prepare: Duration,
    /// The step's call: on a compiled step, MLX replaying the traced graph
    /// into lazy arrays (and tracing it, on the first compiled step); on an
    /// eager step, building the graph.
    pub call: Duration,
    /// Handing the step to MLX to run (`async_eval`); when the step must be
    /// inspected (the non-finite check, data-parallel steps), running it and
    /// waiting (`eval`). On the CPU, MLX runs a queued step's operations
    /// while it queues the rest, so this includes running most of it.
    pub queue: Duration,
    /// From then to the return: the new parameters rebuilt, the step's
    /// bookkeeping.
    pub finish: Duration,
}

impl StepTimes {
    /// Host time before the step's computation is queued:
    /// `prepare + call`.
    pub fn until_queued(&self) -> Duration {
        self.prepare + self.call
    }
}
