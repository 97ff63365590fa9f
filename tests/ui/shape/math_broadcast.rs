// The binary math layers and the comparisons broadcast as `Add` does;
// `Where` broadcasts its condition and both sides.
mithril::model! {
    Net {
        input a: [B, 3], b: [B, 4], mask: [B, 5];
        Divide(a, b) => q;
        Power(a, b) => p;
        Maximum(a, b) => hi;
        Minimum(b, a) => lo;
        RobustPower(a, b) => r;
        Greater(a, b) => gt;
        Less(b, a) => lt;
        Equal(a, b) => eq;
        Where(mask, a, a) => w;
        output q, p, hi, lo, r, gt, lt, eq, w;
    }
}

fn main() {}
