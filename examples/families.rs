//! The zoo's model families, each written once with parameters and
//! instantiated at its published sizes: GPT-2 (`mithril_zoo::gpt`), ResNet
//! (`resnet`), ViT (`vit`), U-Net (`unet`) and Mithril's MLP (`mlp`). For
//! every instance it prints the parameter count, the inputs and outputs,
//! and checks the count against the published one (Hugging Face's for
//! GPT-2, torchvision's for ResNet and ViT), failing on a mismatch. Every
//! number comes from the instance's graph (`graph().weights`, the graph the
//! macro checked while the crate compiled): nothing is allocated.
//!
//! ```sh
//! cargo run --example families                  # the table, every count checked
//! cargo run --example families -- --quick       # CI: the same (it is quick)
//! ```

mod common;

use std::error::Error;

use clap::Parser;
use mithril::Model;
use mithril_zoo::gpt::{Gpt2Large, Gpt2Medium, Gpt2Small, Gpt2Xl};
use mithril_zoo::mlp::MnistMlp;
use mithril_zoo::resnet::{ResNet18, ResNet34, ResNet50};
use mithril_zoo::unet::UNet64;
use mithril_zoo::vit::{VitB16, VitL16};

/// Print every zoo instance's parameter count and check the published ones.
#[derive(Parser)]
struct Args {
    /// CI's short mode: the same checks (counting is quick already)
    #[arg(long)]
    quick: bool,
}

/// One row of the table: the instance's name, its trainable parameters (and
/// the buffers that batch norm's running statistics add: `PARAMETER_COUNT`
/// counts them, torchvision's published counts do not), its inputs and
/// outputs, and the published count if there is one. Returns whether the
/// count matches.
fn row<M: Model>(published: Option<usize>) -> bool {
    let graph = M::graph();
    let count = |trainable: bool| -> usize {
        graph
            .weights
            .iter()
            .filter(|w| w.trainable == trainable)
            .map(|w| w.len())
            .sum()
    };
    let (trained, buffers) = (count(true), count(false));
    let buffers = match buffers {
        0 => String::new(),
        n => format!(" (+{} in buffers)", common::report::thousands(n)),
    };
    let inputs: Vec<String> = graph
        .inputs
        .iter()
        .map(|i| format!("{}: {}", i.name, i.shape))
        .collect();
    let outputs: Vec<String> = graph
        .outputs
        .iter()
        .map(|o| format!("{}: {}", o.name, o.shape))
        .collect();
    let check = match published {
        Some(p) if p == trained => "= published",
        Some(_) => "DIFFERS from the published count",
        None => "",
    };
    // The instance's own name (`M::NAME` is its family's).
    let name = std::any::type_name::<M>()
        .rsplit("::")
        .next()
        .unwrap_or("?");
    println!(
        "{name:<11} {:>13}{buffers:<22} {check:<12} {} -> {}",
        common::report::thousands(trained),
        inputs.join(", "),
        outputs.join(", "),
    );
    published.is_none_or(|p| p == trained)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    if args.quick {
        println!("--quick: every count below is checked, as without it");
    }
    println!(
        "{:<11} {:>13}{:<22} {:<12} inputs -> outputs",
        "instance", "parameters", "", "published"
    );
    // One family per block of rows; each instance is a type of its own,
    // `Gpt2Small = Gpt2(d = 768, heads = 12, layers = 12)` in gpt.rs.
    let checks = [
        // GPT-2: its LM head shares the token embedding, counted once.
        row::<Gpt2Small>(Some(124_439_808)),
        row::<Gpt2Medium>(Some(354_823_168)),
        row::<Gpt2Large>(Some(774_030_080)),
        row::<Gpt2Xl>(Some(1_557_611_200)),
        // ResNet: basic blocks (18, 34) and bottleneck blocks (50) are two
        // families, since a `Layer` parameter cannot choose a block.
        row::<ResNet18>(Some(11_689_512)),
        row::<ResNet34>(Some(21_797_672)),
        row::<ResNet50>(Some(25_557_032)),
        // ViT: the class token and positions are Embedding tables.
        row::<VitB16>(Some(86_567_656)),
        row::<VitL16>(Some(304_326_632)),
        // U-Net (the original's widths, "same" padding, batch norm, nearest
        // upsampling) and the guide's MLP: no published count to match.
        row::<UNet64>(None),
        row::<MnistMlp>(None),
    ];
    if checks.iter().all(|&ok| ok) {
        println!("every published count matches");
        Ok(())
    } else {
        Err("a parameter count differs from the published one".into())
    }
}
