//! The run's metrics: per-epoch statistics, the loss of every batch, and
//! the files and table they are written to.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::chart::{TrainingCurves, render_png};
use crate::failure::{Context, Failure};
use mithril::io::write_atomically;

/// The training loop's own state, saved with every checkpoint: the epoch
/// in progress (its running loss and time), the finished epochs, and each
/// batch's loss for the chart.
#[derive(Default, Serialize, Deserialize)]
pub struct Metrics {
    pub loss_sum: f64,
    pub seen: usize,
    pub train_seconds: f64,
    pub history: Vec<EpochStats>,
    pub batch_losses: Vec<(f64, f64)>,
}

/// One finished epoch.
#[derive(Serialize, Deserialize)]
pub struct EpochStats {
    pub epoch: usize,
    pub train_loss: f64,
    pub test_accuracy: f64,
    pub train_seconds: f64,
    pub eval_seconds: f64,
    pub samples: usize,
}

impl EpochStats {
    /// Training digits per second.
    pub fn samples_per_second(&self) -> f64 {
        self.samples as f64 / self.train_seconds.max(1e-9)
    }
}

impl Metrics {
    /// The epoch in progress ends: its statistics join the history.
    pub fn finish_epoch(&mut self, stats: EpochStats) {
        self.history.push(stats);
        (self.loss_sum, self.seen, self.train_seconds) = (0.0, 0, 0.0);
    }

    /// The best epoch by test accuracy.
    pub fn best(&self) -> Option<&EpochStats> {
        self.history
            .iter()
            .max_by(|a, b| a.test_accuracy.total_cmp(&b.test_accuracy))
    }

    /// Rewrites the CSV file of the finished epochs.
    pub fn write_csv(&self, path: &Path) -> Result<(), Failure> {
        let mut csv = String::from(
            "epoch,train_loss,test_accuracy,train_seconds,eval_seconds,samples_per_second\n",
        );
        for s in &self.history {
            csv.push_str(&format!(
                "{},{},{:.4},{:.3},{:.3},{:.1}\n",
                s.epoch,
                significant(s.train_loss, 8),
                s.test_accuracy,
                s.train_seconds,
                s.eval_seconds,
                s.samples_per_second()
            ));
        }
        write_atomically(path, csv.as_bytes()).context(|| format!("writing {}", path.display()))
    }

    /// Redraws the chart of the run's `epochs` so far, titled `title`.
    pub fn write_chart(&self, path: &Path, title: &str, epochs: usize) -> Result<(), Failure> {
        let curves = TrainingCurves {
            title,
            epochs,
            batch_losses: &self.batch_losses,
            epoch_losses: &self
                .history
                .iter()
                .map(|s| s.train_loss)
                .collect::<Vec<_>>(),
            test_accuracies: &self
                .history
                .iter()
                .map(|s| s.test_accuracy)
                .collect::<Vec<_>>(),
        };
        let png = render_png(&curves, (1200, 520)).context(|| "drawing the chart".into())?;
        write_atomically(path, &png).context(|| format!("writing {}", path.display()))
    }

    /// Prints the finished epochs as a Markdown table.
    pub fn print_table(&self) {
        println!();
        println!("| epoch |  train loss | test accuracy | train s | eval s | samples/s |");
        println!("|------:|------------:|--------------:|--------:|-------:|----------:|");
        for s in &self.history {
            println!(
                "| {:>5} | {:>11} | {:>12.2}% | {:>7.2} | {:>6.2} | {:>9.0} |",
                s.epoch,
                significant(s.train_loss, 8),
                100.0 * s.test_accuracy,
                s.train_seconds,
                s.eval_seconds,
                s.samples_per_second()
            );
        }
        println!();
    }
}

/// `x` with `digits` significant digits (at least), in plain notation.
pub fn significant(x: f64, digits: i32) -> String {
    let magnitude = if x == 0.0 || !x.is_finite() {
        0
    } else {
        x.abs().log10().floor() as i32
    };
    format!("{x:.*}", (digits - 1 - magnitude).max(0) as usize)
}
