//! The generators: random token streams ([`random`]), mutations of the
//! workspace's models ([`mutate`]), models generated from the grammar
//! ([`grammar`]), and the second step of a block that uses models of other
//! blocks ([`second_step`]).

mod grammar;
mod mutate;
mod random;
mod second_step;

pub use second_step::signature_groups;

use fastrand::Rng;

use crate::harness::Sink;
use crate::tree::{Tree, stream};
use crate::vocab::parse;

use grammar::block;
use mutate::mutate_some;
use random::random_stream;
use second_step::continuation;

/// What the generators draw on.
pub struct Pools {
    /// The workspace's model blocks, as text.
    pub seeds: Vec<String>,
    /// Signatures (`{ "mithril-dsl .." ok Name { .. } .. }`) from their expansions.
    pub signatures: Vec<String>,
    pub seed: u64,
}

/// The random state of case `case` of a run: independent of the order
/// cases run in, so any case can be run alone.
pub fn rng(seed: u64, case: u64) -> Rng {
    // splitmix64 of the pair.
    let mut z = seed ^ case.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    Rng::with_seed(z ^ (z >> 31))
}

/// Builds case `case` and hands its inputs to `sink`; returns its kind.
pub fn case(pools: &Pools, case: u64, sink: &mut dyn Sink) -> &'static str {
    let mut rng = rng(pools.seed, case);
    match rng.usize(..100) {
        0..20 => {
            let _ = sink.check(stream(&random_stream(&mut rng)));
            "random tokens"
        }
        20..55 => {
            let mut list = seed(&mut rng, pools);
            mutate_some(&mut rng, &mut list, pools);
            let _ = sink.check(stream(&list));
            "mutated workspace model"
        }
        55..80 => {
            let mut list = parse(&block(&mut rng));
            if rng.bool() {
                mutate_some(&mut rng, &mut list, pools);
            }
            let _ = sink.check(stream(&list));
            "generated model"
        }
        _ => {
            continuation(&mut rng, pools, sink);
            "second step"
        }
    }
}

fn seed(rng: &mut Rng, pools: &Pools) -> Vec<Tree> {
    parse(&pools.seeds[rng.usize(..pools.seeds.len())])
}
