//! The order the examples visit their data in: reproducibly shuffled from a
//! seed, or consecutive and wrapping around.

/// SplitMix64 (Steele, Lea and Flood): a tiny, well-mixed generator, plenty
/// for shuffling a data set reproducibly from a seed.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator whose stream is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..n` (Lemire's multiply-shift; the bias for
    /// data-set sizes is below 2^-40).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// The order of `n` items in epoch `epoch` (from 1): the seed's generator
/// shuffling the previous epoch's order, so a pure function of (seed,
/// epoch) that a resumed run recomputes.
pub fn shuffled(seed: u64, n: usize, epoch: usize) -> Vec<usize> {
    let mut rng = SplitMix64::new(seed);
    let mut order: Vec<usize> = (0..n).collect();
    for _ in 0..epoch {
        rng.shuffle(&mut order);
    }
    order
}

/// Batch `step` (from 0) of `size` consecutive items of `n`, wrapping
/// around at the end.
pub fn consecutive(step: usize, size: usize, n: usize) -> Vec<usize> {
    (step * size..(step + 1) * size).map(|i| i % n).collect()
}

/// The first `n` items, in order.
pub fn first(n: usize) -> Vec<usize> {
    (0..n).collect()
}
