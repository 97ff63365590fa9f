//! The run: set-up (processes, flags, device, data), the training loop with
//! its progress bar and checkpoints, an evaluation and the files after
//! every epoch, and the report at the end.

use std::str::FromStr;
use std::time::Instant;

use clap::ArgMatches;
use indicatif::{ProgressBar, ProgressStyle};
use mithril::distributed::{Backend, Group, shard, verify_identical};
use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};

use crate::checkpoint::{self, CHECKPOINT, PARAMS};
use crate::common::mnist::{accuracy_as, batch_as};
use crate::common::report::thousands;
use crate::convnet::IMAGE;
use crate::failure::{Context, Failure};
use crate::flags::Args;
use crate::metrics::{EpochStats, Metrics, significant};
use crate::{ConvNet, common};

/// Digits `--quick` trains on, evaluates on, and the accuracy it asserts.
const QUICK_TRAIN: usize = 2_000;
const QUICK_TEST: usize = 1_000;
const QUICK_MIN_ACCURACY: f64 = 0.85;

/// Trains (or resumes) the run `args` describe; rank 0 prints and writes
/// the files.
pub fn run(args: &Args, matches: &ArgMatches) -> Result<(), Failure> {
    // The processes of a launched run (a group of one otherwise).
    let group = Group::init(Backend::Any).context(|| "joining the distributed run".into())?;
    let main = group.is_main();
    let (flags, out, resumed) = checkpoint::start_or_resume(args, matches, group.size())?;
    let dtype = DType::from_str(&flags.dtype).context(|| "the run's dtype".into())?;
    let device = flags.device();
    let backend = MlxBackend::builder()
        .device(device)
        .dtype(dtype)
        .seed(flags.seed)
        .build()
        .map_err(|e| match device {
            Device::Gpu => Failure::Unsupported(format!("--gpu: {e}; run with --cpu instead")),
            _ => Failure::Unsupported(e.to_string()),
        })?;

    let data = flags.data();
    let mnist = data
        .read()
        .context(|| format!("reading the MNIST digits in {}", data.dir().display()))?;
    let (train, test) = (&mnist.train, &mnist.test);
    let (n_train, n_test) = if flags.quick {
        (QUICK_TRAIN.min(train.len()), QUICK_TEST.min(test.len()))
    } else {
        (train.len(), test.len())
    };
    let epochs = flags.epochs;
    let batch_size = flags.batch_size.min(n_train);
    if !batch_size.is_multiple_of(group.size()) {
        return Err(Failure::Failed(format!(
            "--batch-size {batch_size} cannot be split evenly among {} ranks",
            group.size()
        )));
    }
    let device_name = if backend.device() == Device::Gpu {
        "GPU"
    } else {
        "CPU"
    };
    // Rank 0 speaks for the run; the others only report failures.
    let say = |line: String| {
        if main {
            println!("{line}");
        }
    };
    say(mnist.to_string());
    say(format!(
        "mithril MNIST: ConvNet ({} parameters), {} on the {device_name} with {}, Adam lr {}, batch {batch_size}, seed {}",
        thousands(ConvNet::PARAMETER_COUNT),
        dtype,
        mithril::runtime_info(),
        flags.lr,
        flags.seed
    ));
    if main {
        crate::common::report::first_run_notice(&backend);
    }
    if group.size() > 1 {
        say(format!(
            "data-parallel on {} ranks ({} backend): {} digits of each batch per rank",
            group.size(),
            group.backend().map_or("no", |b| b.name()),
            batch_size / group.size()
        ));
    }
    say(format!(
        "training on {} digits for {epochs} epoch{}, testing on {} official test digits{}",
        thousands(n_train),
        if epochs == 1 { "" } else { "s" },
        thousands(n_test),
        if flags.quick { " (--quick)" } else { "" }
    ));

    if dtype == DType::F16 && main {
        eprintln!(
            "warning: f16 training with Adam diverges: squared gradients (~1e-8) underflow to zero in half \
             precision, so Adam's first updates are huge (Python MLX gives NaN); bf16 has f32's range"
        );
    }

    std::fs::create_dir_all(&out)
        .context(|| format!("creating the output directory {}", out.display()))?;
    let csv_path = out.join("mnist-metrics.csv");
    let chart_path = out.join("mnist-training.png");
    let checkpoint_path = out.join(CHECKPOINT);

    let mut params = ConvNet::init(&backend).context(|| "initialising the parameters".into())?;
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<ConvNet, _>::new(&backend, &objective, Adam::new(flags.lr))
        .context(|| "setting up training".into())?;
    trainer.stop_on_non_finite(true);
    trainer.data_parallel(&group);
    let mut model = mithril::compile::<ConvNet>(&backend);

    // Where training starts: the beginning, or where the checkpoint left it.
    let (mut first_epoch, mut skip, mut metrics) = (1, 0, Metrics::default());
    if let Some(checkpoint) = &resumed {
        let progress = trainer
            .restore(checkpoint, &mut params)
            .context(|| format!("resuming from {}", checkpoint.path().display()))?;
        metrics = checkpoint::metrics(checkpoint)?;
        (first_epoch, skip) = (progress.epoch as usize, progress.batch as usize);
        say(format!(
            "resuming {} at step {} (epoch {first_epoch}, {} digits done)",
            checkpoint.path().display(),
            trainer.steps(),
            thousands(metrics.seen)
        ));
    }
    let mut last_checkpoint = resumed.as_ref().map(|c| c.steps());

    let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos:>6}/{len} {msg}")
        .context(|| "progress bar template".into())?
        .progress_chars("=> ");

    for epoch in first_epoch..=epochs {
        let order = common::order::shuffled(flags.seed, n_train, epoch);
        let bar = match main {
            true => ProgressBar::new(n_train as u64),
            false => ProgressBar::hidden(),
        }
        .with_style(style.clone())
        .with_prefix(format!("epoch {epoch}/{epochs}"));
        bar.set_position(metrics.seen as u64);
        let start = Instant::now();
        // This rank's part of each batch (all of it for a single process).
        let batches = shard(&order, batch_size, group.rank(), group.size());
        let skip = std::mem::take(&mut skip);
        let seen_before = metrics.seen;
        for (b, indices) in batches.iter().enumerate().skip(skip) {
            let (inputs, labels) = batch_as::<ConvNet>(train, indices, IMAGE, dtype)
                .context(|| "a batch of training digits".into())?;
            let step = trainer
                .step(&mut params, &inputs, &labels)
                .map_err(|e| checkpoint::diverged(e, epoch, last_checkpoint, &checkpoint_path))?;
            // The loss averaged over every rank, for the whole batch.
            let loss = f64::from(
                step.loss
                    .try_item_cast::<f32>()
                    .context(|| "reading the loss".into())?,
            );
            let digits = indices.len() * group.size();
            metrics.loss_sum += loss * digits as f64;
            metrics.seen += digits;
            let seen = metrics.seen;
            metrics
                .batch_losses
                .push(((epoch - 1) as f64 + seen as f64 / n_train as f64, loss));
            bar.set_position(seen as u64);
            let rate = (seen - seen_before) as f64 / start.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!(
                "loss {:.4}  {rate:.0} samples/s",
                metrics.loss_sum / seen as f64
            ));
            if let Some(every) = flags.checkpoint_every
                && trainer.steps().is_multiple_of(every as u64)
            {
                // The epoch's time so far rides in the checkpoint.
                let before = metrics.train_seconds;
                metrics.train_seconds += start.elapsed().as_secs_f64();
                let place = (epoch, b + 1);
                let saved = checkpoint::save(
                    &checkpoint_path,
                    &mut trainer,
                    &params,
                    &flags,
                    &metrics,
                    place,
                );
                metrics.train_seconds = before;
                last_checkpoint = Some(saved?);
            }
        }
        let train_seconds = metrics.train_seconds + start.elapsed().as_secs_f64();
        bar.finish_and_clear();

        let eval_start = Instant::now();
        // Every rank holds the same parameters: rank 0 evaluates for all.
        let test_accuracy = match main {
            true => accuracy_as(&mut model, &params, test, n_test, IMAGE, dtype)
                .context(|| "evaluating the test digits".into())?,
            false => 0.0,
        };
        let stats = EpochStats {
            epoch,
            train_loss: metrics.loss_sum / metrics.seen.max(1) as f64,
            test_accuracy,
            train_seconds,
            eval_seconds: eval_start.elapsed().as_secs_f64(),
            samples: metrics.seen,
        };
        say(format!(
            "epoch {epoch}/{epochs}: train loss {}, test accuracy {:.2}%, {:.1} s ({:.0} samples/s), eval {:.2} s",
            significant(stats.train_loss, 8),
            100.0 * stats.test_accuracy,
            stats.train_seconds,
            stats.samples_per_second(),
            stats.eval_seconds
        ));
        metrics.finish_epoch(stats);
        if !main {
            continue;
        }

        // Rewritten after every epoch, so an interrupted run keeps its curves.
        metrics.write_csv(&csv_path)?;
        let title = format!(
            "mithril · MNIST ConvNet · {} training digits · Adam {} · batch {batch_size} · {}",
            thousands(n_train),
            flags.lr,
            dtype
        );
        metrics.write_chart(&chart_path, &title, epochs)?;
    }

    // The finished run: a last checkpoint (resuming it only reports), and
    // the parameters on their own, for comparison and for inference.
    if flags.checkpoint_every.is_some() {
        let end = (epochs + 1, 0);
        checkpoint::save(
            &checkpoint_path,
            &mut trainer,
            &params,
            &flags,
            &metrics,
            end,
        )?;
    }
    // Every rank ends with the same parameters: checked, bit for bit.
    let checksum = verify_identical(&group, &params).context(|| "comparing the ranks".into())?;
    if !main {
        return Ok(());
    }
    let params_path = out.join(PARAMS);
    mithril::io::save_params::<ConvNet>(&params, &params_path)
        .context(|| format!("writing {}", params_path.display()))?;

    metrics.print_table();
    let best = metrics
        .best()
        .ok_or_else(|| Failure::Failed("no epoch ran".into()))?;
    println!(
        "best test accuracy: {:.2}% (epoch {})",
        100.0 * best.test_accuracy,
        best.epoch
    );
    println!("metrics: {}", csv_path.display());
    println!("chart: {}", chart_path.display());
    println!("parameters: {}", params_path.display());
    if flags.checkpoint_every.is_some() {
        println!("checkpoint: {}", checkpoint_path.display());
    }
    match group.size() {
        1 => println!("parameters checksum {checksum:016x}"),
        n => println!("parameters identical on all {n} ranks (checksum {checksum:016x})"),
    }

    let last = metrics.history.last().map_or(0.0, |s| s.test_accuracy);
    common::report::quick_check(
        flags.quick,
        last >= QUICK_MIN_ACCURACY,
        &format!(
            "test accuracy {:.2}% on {} test digits after {epochs} epoch{} on {} training digits >= {:.0}% required",
            100.0 * last,
            thousands(n_test),
            if epochs == 1 { "" } else { "s" },
            thousands(n_train),
            100.0 * QUICK_MIN_ACCURACY
        ),
    )
    .map_err(|e| Failure::Failed(e.to_string()))
}
